/** Model families (one folder each) and what builds on them. */
export type { CarriedTensor, EvalWindow, Family, FamilyInfo, FamilySetting, GradientRecord, Network, NetworkShape, QuantitySpec, TensorInit, TensorSpec, TokenStepper } from './family';
export { FAMILY_INFO, FAMILY_NAMES, familiesTaking, infoOf, isFamilyName, takesSetting, type FamilyName } from './catalog';
export { FAMILIES, familyOf } from './registry';
export { createNetwork, createParams, newGradientRecord } from './build';

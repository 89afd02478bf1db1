/** Model families (one folder each) and what builds on them. */
export type { CarriedTensor, Family, FamilySetting, GradientRecord, Network, NetworkShape, QuantitySpec, TensorInit, TensorSpec } from './family';
export { FAMILIES, FAMILY_NAMES, familyOf, isFamilyName, type FamilyName } from './registry';
export { createNetwork, createParams, newGradientRecord } from './build';

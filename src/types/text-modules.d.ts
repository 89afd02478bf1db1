/** Source files bundled as text by esbuild's `text` loader (see esbuild.mjs). */
declare module '*.py' {
  const text: string;
  export default text;
}

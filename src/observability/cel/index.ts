export { compileCel, compileFilter, compileStringExpr, checkCel, CelError, ATTRIBUTES, type Evaluator } from './compile.js';

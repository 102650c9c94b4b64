/** Envoy command-operator formats: parse once, render per request. */
export { FormatError, tokenizeFormat, type FormatToken, type OperatorToken } from './parser.js';
export { OPERATORS, compileOperator, headerValue, grpcStatus, longFlags, utf8Bytes, type OpFn } from './operators.js';
export {
  compileFormat, render, createTextFormatter, createJsonFormatter, compileHeaderValue, checkHeaderValue, istioTextFormat,
  ISTIO_TEXT_FORMAT, ISTIO_JSON_FORMAT, type CompiledFormat, type LineFormatter, type JsonFormatSpec, type FormatOptions,
} from './compile.js';
export { compileTimeFormat, type TimeFormatter } from './strftime.js';

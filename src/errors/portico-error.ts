/** A runtime error with a stable code from src/errors/codes.ts. */
export class PorticoError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'PorticoError';
  }
}

declare module 'asl-validator' {
  type Result = { isValid: boolean; errors: { message: string; path?: string }[] };
  /** Validates an Amazon States Language definition against the ASL schema and its semantic checks. */
  export default function aslValidator(definition: unknown): Result;
}

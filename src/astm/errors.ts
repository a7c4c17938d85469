/**
 * Typed errors of the engine. The engine never clamps or extrapolates a value it cannot compute
 * by the standard: it throws one of these, and the caller decides (the CLI turns it into a
 * UserError, the batch command writes it into the row's `error` column).
 *
 * `field` names the input the error is about, in the engine's own vocabulary, so a caller can map
 * it to its column or option name.
 */
export type AstmField = 'density15' | 'observedDensity' | 'temperatureC' | 'pressureKpa' | 'volumeL' | 'edition' | 'rounding' | 'options';

export type AstmErrorCode =
  | 'DENSITY_OUT_OF_RANGE'
  | 'TEMPERATURE_OUT_OF_RANGE'
  | 'PRESSURE_OUT_OF_RANGE'
  | 'DENSITY_UNIT_SUSPECT'
  | 'INVALID_NUMBER'
  | 'INVALID_VOLUME'
  | 'UNKNOWN_EDITION'
  | 'UNKNOWN_ROUNDING'
  | 'UNSUPPORTED_OPTION';

export class AstmError extends Error {
  readonly code: AstmErrorCode;
  readonly field: AstmField;
  /** what the caller could type instead (e.g. "837.5 kg/m³"), when there is an obvious fix */
  readonly suggestion: string | undefined;

  constructor(code: AstmErrorCode, field: AstmField, message: string, suggestion?: string) {
    super(message);
    this.name = 'AstmError';
    this.code = code;
    this.field = field;
    this.suggestion = suggestion;
  }
}

export type LimitBound = 'min' | 'max';

/**
 * A value outside the domain of the table (per edition and product group). `limit` is the limit
 * that was crossed, `bound` says which side, `quantity` which derived quantity was checked: for
 * 53B the density limit applies to the computed ρ15 (1980) or ρ60 (2004), not to the reading.
 */
export class AstmRangeError extends AstmError {
  readonly quantity: 'density15' | 'density60' | 'observedDensity' | 'temperatureC' | 'pressureKpa';
  readonly value: number;
  readonly limit: number;
  readonly bound: LimitBound;

  constructor(
    code: 'DENSITY_OUT_OF_RANGE' | 'TEMPERATURE_OUT_OF_RANGE' | 'PRESSURE_OUT_OF_RANGE',
    field: AstmField,
    details: { quantity: AstmRangeError['quantity']; value: number; limit: number; bound: LimitBound },
    message: string,
  ) {
    super(code, field, message);
    this.name = 'AstmRangeError';
    this.quantity = details.quantity;
    this.value = details.value;
    this.limit = details.limit;
    this.bound = details.bound;
  }
}

/** A density that is almost certainly in kg/L or g/cm³ where kg/m³ was expected. */
export class AstmUnitError extends AstmError {
  readonly value: number;
  readonly suggested: number;

  constructor(field: AstmField, value: number, suggested: number) {
    super(
      'DENSITY_UNIT_SUSPECT',
      field,
      `density ${value} looks like kg/L or g/cm³; the engine expects kg/m³ (did you mean ${suggested} kg/m³?)`,
      `${suggested} kg/m³`,
    );
    this.name = 'AstmUnitError';
    this.value = value;
    this.suggested = suggested;
  }
}

export function isAstmError(e: unknown): e is AstmError {
  return e instanceof AstmError;
}

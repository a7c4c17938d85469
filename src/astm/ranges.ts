import type { Edition } from './editions.js';
import { AstmError, AstmRangeError, AstmUnitError, type AstmField } from './errors.js';

/**
 * Domains of the generalized-products tables. Outside them the engine refuses: a typed error
 * naming the limit crossed, never a clamped or extrapolated value.
 *
 * 1980 (razor_win `API.c`, `API_15C_PT` case 'B', Phase Dynamics flow-computer code): ρ15 in
 * 653–1075 kg/m³, T from −18 °C; the upper temperature limit depends on ρ15. That source also
 * lists an "extrapolated" band above each limit (to 90/120/150 °C); the engine treats the band as
 * out of range rather than extrapolate silently. Other sources put the bands at 90/95 and
 * 120/125 °C; none of this touches gasoil (820–860 kg/m³, 10–45 °C).
 *
 * 2004 (`constants.h` of the API reference implementation): T in −58…302 °F (−50…150 °C),
 * ρ60 of refined products in 610.6–1163.5 kg/m³, the density entering the 11.1.6.2 iteration in
 * 470.4–1209.5 kg/m³, gauge pressure 0–1500 psi.
 */
export const LIMITS_1980 = {
  density15: { min: 653, max: 1075 },
  temperatureMin: -18,
  /** upper temperature limit by ρ15 band: the first band whose `below` exceeds ρ15 applies */
  temperatureMaxByDensity: [
    { below: 778.5, max: 60 },
    { below: 824, max: 90 },
    { below: Infinity, max: 120 },
  ],
} as const;

export const LIMITS_2004 = {
  temperature: { min: -50, max: 150 },
  observedDensity: { min: 470.4, max: 1209.5 },
  density60: { min: 610.6, max: 1163.5 },
  pressureKpa: { min: 0, max: 1500 * 6.894757 },
} as const;

export function requireFinite(value: number, field: AstmField, label: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AstmError('INVALID_NUMBER', field, `${label} must be a finite number, got ${String(value)}`);
  }
}

/**
 * A "density" below 2 is not a liquid petroleum density in kg/m³ (the lightest table density is
 * 470 kg/m³); it is almost always kg/L or g/cm³ (0.8375 for 837.5 kg/m³). Refusing it with the
 * likely value is kinder than a range error, and far safer than silently scaling it.
 */
export function rejectDensityInWrongUnit(value: number, field: AstmField): void {
  if (value > 0 && value < 2) {
    // toPrecision drops the binary noise of ×1000 (0.8375 × 1000 = 837.4999999999999)
    throw new AstmUnitError(field, value, Number((value * 1000).toPrecision(12)));
  }
}

function fmt(n: number): string {
  return String(Number(n.toPrecision(10)));
}

export function temperatureMax1980(density15: number): number {
  for (const band of LIMITS_1980.temperatureMaxByDensity) if (density15 < band.below) return band.max;
  return LIMITS_1980.temperatureMaxByDensity[LIMITS_1980.temperatureMaxByDensity.length - 1]!.max;
}

/**
 * ρ15 within the 1980 table. `context` tells, for 53B, where the ρ15 came from, because the
 * user typed an observed density and should see both.
 */
export function checkDensity15_1980(density15: number, field: AstmField, context = ''): void {
  const { min, max } = LIMITS_1980.density15;
  if (density15 < min || density15 > max) {
    const bound = density15 < min ? 'min' : 'max';
    const limit = bound === 'min' ? min : max;
    throw new AstmRangeError(
      'DENSITY_OUT_OF_RANGE',
      field,
      { quantity: 'density15', value: density15, limit, bound },
      `density at 15 °C ${fmt(density15)} kg/m³${context} is ${bound === 'min' ? 'below the lower' : 'above the upper'} limit ${limit} kg/m³ of the 1980 Table 53B/54B (generalized products)`,
    );
  }
}

/**
 * T within the 1980 limits for this ρ15. Without a ρ15 (53B, before it is known) the widest
 * band is used, so that an absurd temperature never reaches the iteration.
 */
export function checkTemperature1980(temperatureC: number, density15: number | undefined): void {
  const min = LIMITS_1980.temperatureMin;
  const max = density15 === undefined ? Math.max(...LIMITS_1980.temperatureMaxByDensity.map((b) => b.max)) : temperatureMax1980(density15);
  if (temperatureC < min || temperatureC > max) {
    const bound = temperatureC < min ? 'min' : 'max';
    const limit = bound === 'min' ? min : max;
    const which = bound === 'min' ? '' : density15 === undefined ? ' for any density' : ` for ρ15 ${fmt(density15)} kg/m³`;
    throw new AstmRangeError(
      'TEMPERATURE_OUT_OF_RANGE',
      'temperatureC',
      { quantity: 'temperatureC', value: temperatureC, limit, bound },
      `temperature ${fmt(temperatureC)} °C is ${bound === 'min' ? 'below the lower' : 'above the upper'} limit ${limit} °C of the 1980 Table 53B/54B${which}` +
        (bound === 'max' ? ' (beyond it the standard only extrapolates)' : ''),
    );
  }
}

export function checkTemperature2004(temperatureC: number): void {
  const { min, max } = LIMITS_2004.temperature;
  if (temperatureC < min || temperatureC > max) {
    const bound = temperatureC < min ? 'min' : 'max';
    const limit = bound === 'min' ? min : max;
    throw new AstmRangeError(
      'TEMPERATURE_OUT_OF_RANGE',
      'temperatureC',
      { quantity: 'temperatureC', value: temperatureC, limit, bound },
      `temperature ${fmt(temperatureC)} °C is ${bound === 'min' ? 'below the lower' : 'above the upper'} limit ${limit} °C of API MPMS 11.1-2004 (−58…302 °F)`,
    );
  }
}

/** The density handed to the 11.1.6.2 iteration (an observed density, or ρ15 for 54B). */
export function checkObservedDensity2004(density: number, field: AstmField): void {
  const { min, max } = LIMITS_2004.observedDensity;
  if (density < min || density > max) {
    const bound = density < min ? 'min' : 'max';
    const limit = bound === 'min' ? min : max;
    throw new AstmRangeError(
      'DENSITY_OUT_OF_RANGE',
      field,
      { quantity: 'observedDensity', value: density, limit, bound },
      `density ${fmt(density)} kg/m³ is ${bound === 'min' ? 'below the lower' : 'above the upper'} limit ${limit} kg/m³ of API MPMS 11.1-2004 for refined products`,
    );
  }
}

/** `estimate`: ρ60 one fixed-point step from the limit where the clamped iteration stopped. */
export function density60OutOfRange(estimate: number, bound: 'min' | 'max', field: AstmField, context: string): AstmRangeError {
  const { min, max } = LIMITS_2004.density60;
  const limit = bound === 'min' ? min : max;
  return new AstmRangeError(
    'DENSITY_OUT_OF_RANGE',
    field,
    { quantity: 'density60', value: estimate, limit, bound },
    `the density at 60 °F${context} would be about ${fmt(Number(estimate.toFixed(1)))} kg/m³, ${bound === 'min' ? 'below the lower' : 'above the upper'} limit ${limit} kg/m³ of API MPMS 11.1-2004 for refined products`,
  );
}

export function checkPressure(pressureKpa: number, edition: Edition): void {
  if (pressureKpa === 0) return;
  if (edition === '1980') {
    throw new AstmError(
      'UNSUPPORTED_OPTION',
      'pressureKpa',
      'a gauge pressure is only supported with edition 2004 (the 1980 tables are at atmospheric pressure)',
    );
  }
  const { min, max } = LIMITS_2004.pressureKpa;
  if (pressureKpa < min || pressureKpa > max) {
    const bound = pressureKpa < min ? 'min' : 'max';
    const limit = bound === 'min' ? min : max;
    throw new AstmRangeError(
      'PRESSURE_OUT_OF_RANGE',
      'pressureKpa',
      { quantity: 'pressureKpa', value: pressureKpa, limit, bound },
      `gauge pressure ${fmt(pressureKpa)} kPa is outside 0–${fmt(max)} kPa (0–1500 psi) of API MPMS 11.1-2004`,
    );
  }
}

export function checkVolume(volumeL: number): void {
  requireFinite(volumeL, 'volumeL', 'volume');
  if (volumeL < 0) throw new AstmError('INVALID_VOLUME', 'volumeL', `volume ${volumeL} L is negative`);
}

import { roundHalfUp } from './rounding.js';

/**
 * Soda-lime glass hydrometer correction: ρ_T = ρ_read · (1 − 0.000023·Δt − 0.00000002·Δt²),
 * Δt = T − 15 °C (°F form 1 − 1.278e-5·Δt − 6.2e-9·Δt²; Flow-X manual p.79/148, GB/T 1885).
 *
 * A glass hydrometer's scale is calibrated at 15 °C; at another temperature the glass itself has
 * expanded and the reading is off. The printed 1980 Table 53B has this correction built in (without
 * it the printed values are missed by 0.1–0.9 kg/m³). A digital density meter (U-tube,
 * ASTM D4052) reads true density and must not get it. The 2004 procedure leaves it out and
 * expects it applied beforehand to hydrometer readings (ASTM D1298 §11.5.1), which is what the
 * engine does when the caller says the reading comes from a glass hydrometer.
 *
 * `printed`: the factor's two terms rounded to 9 decimals and ρ_T to 0.01 kg/m³, the rounding
 * that best reproduces the printed 53B (REFERENCE.md §4.3).
 */
export function glassHydrometerCorrection(reading: number, temperatureC: number, scheme: 'printed' | 'exact'): number {
  const dt = temperatureC - 15;
  let linear = 0.000023 * dt;
  let quadratic = 0.00000002 * dt * dt;
  if (scheme === 'exact') return reading * (1 - linear - quadratic);
  linear = roundHalfUp(linear, 9);
  quadratic = roundHalfUp(quadratic, 9);
  return roundHalfUp(reading * (1 - linear - quadratic), 2);
}

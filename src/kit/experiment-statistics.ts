/*
 * The statistics of content experiments, pure and small. Each treatment's conversion rate gets a
 * Beta-Binomial posterior: with a uniform prior Beta(1, 1), after `c` conversions of `n` exposed recipients it
 * is Beta(1 + c, 1 + n - c). "Probability to beat" is P(rate of B > rate of A) under the two posteriors.
 *
 * Why this and not a package: the exact answer for integer parameters is a finite sum (Evan Miller, "Formulas
 * for Bayesian A/B testing", 2015), a few lines over a log-gamma, so a dependency would buy little. For large
 * counts the sum gets long (one term per conversion), and there the posteriors are so close to normal that
 * the normal approximation agrees with it within half a percentage point (a test checks both against each
 * other where they meet).
 */

/** Above this many conversions in the smaller arm, the normal approximation replaces the exact sum. */
export const EXACT_SUM_LIMIT = 5_000;

const LANCZOS = [
  0.999_999_999_999_809_9, 676.520_368_121_885_1, -1_259.139_216_722_402_8, 771.323_428_777_653_1,
  -176.615_029_162_140_6, 12.507_343_278_686_905, -0.138_571_095_265_720_12, 9.984_369_578_019_571_6e-6,
  1.505_632_735_149_311_6e-7,
];

/** ln Γ(x) for x > 0: the Lanczos approximation (g = 7, n = 9), accurate to about 15 significant digits. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ln B(a, b), the log of the Beta function. */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** Φ(z), the standard normal distribution function (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.327_591_1 * x);
  const poly =
    t *
    (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** A Beta posterior's parameters. */
interface Beta {
  a: number;
  b: number;
}

/** The posterior of a conversion rate after `conversions` of `exposed`, from a uniform prior. */
export function posterior(conversions: number, exposed: number): Beta {
  const n = Math.max(0, Math.floor(exposed));
  const c = Math.min(n, Math.max(0, Math.floor(conversions)));
  return { a: 1 + c, b: 1 + n - c };
}

/**
 * P(challenger's rate > incumbent's) by Evan Miller's exact sum, over the shorter side's conversions.
 *
 * @internal Exported for tests, which hold it against the normal approximation.
 */
export function exactProbabilityToBeat(challenger: Arm, incumbent: Arm): number {
  const y = posterior(challenger.conversions, challenger.exposed);
  const x = posterior(incumbent.conversions, incumbent.exposed);
  return y.a <= x.a ? exactBeats(y, x) : 1 - exactBeats(x, y);
}

/**
 * P(challenger's rate > incumbent's) with each posterior replaced by the normal of its mean and variance.
 *
 * @internal Exported for tests, which hold it against the exact sum.
 */
export function normalProbabilityToBeat(challenger: Arm, incumbent: Arm): number {
  return normalBeats(
    posterior(challenger.conversions, challenger.exposed),
    posterior(incumbent.conversions, incumbent.exposed),
  );
}

/** P(Y > X) for X ~ Beta(x), Y ~ Beta(y) with integer `y.a`: Evan Miller's exact sum, `y.a` terms. */
function exactBeats(y: Beta, x: Beta): number {
  let total = 0;
  const base = logBeta(x.a, x.b);
  for (let i = 0; i < y.a; i++) {
    total += Math.exp(logBeta(x.a + i, x.b + y.b) - Math.log(y.b + i) - logBeta(1 + i, y.b) - base);
  }
  return Math.min(1, Math.max(0, total));
}

/** P(Y > X) with each posterior replaced by the normal of its mean and variance. */
function normalBeats(y: Beta, x: Beta): number {
  const mean = (p: Beta) => p.a / (p.a + p.b);
  const variance = (p: Beta) => (p.a * p.b) / ((p.a + p.b) ** 2 * (p.a + p.b + 1));
  return normalCdf((mean(y) - mean(x)) / Math.sqrt(variance(y) + variance(x)));
}

/** One arm of an experiment: how many recipients were sent it, and how many of them converted. */
export interface Arm {
  /** Recipients sent this treatment. */
  exposed: number;
  /** Of them, those who converted (opened, clicked, or did the custom event). */
  conversions: number;
}

/**
 * The probability that `challenger`'s true conversion rate is higher than `incumbent`'s, given what was
 * observed, under uniform priors: 0.5 when nothing tells them apart. Exact for up to
 * {@link EXACT_SUM_LIMIT} conversions in the smaller arm, the normal approximation above.
 *
 * @example
 * ```ts
 * probabilityToBeat({ exposed: 1000, conversions: 120 }, { exposed: 1000, conversions: 100 }); // ≈ 0.92
 * ```
 */
export function probabilityToBeat(challenger: Arm, incumbent: Arm): number {
  const shorter = Math.min(challenger.conversions, incumbent.conversions) + 1;
  // The sum runs over the shorter side's conversions (P(Y > X) = 1 - P(X > Y)); past the limit, the normal.
  return shorter > EXACT_SUM_LIMIT
    ? normalProbabilityToBeat(challenger, incumbent)
    : exactProbabilityToBeat(challenger, incumbent);
}

/**
 * The arm that beats every other with at least `threshold` probability, or `undefined` when none does: a
 * winner is named only when it is better than each alternative, control included, with that confidence.
 */
export function significantWinner(arms: readonly Arm[], threshold: number): number | undefined {
  for (let i = 0; i < arms.length; i++) {
    let beatsAll = arms.length > 1;
    for (let j = 0; j < arms.length && beatsAll; j++) {
      if (i !== j && probabilityToBeat(arms[i]!, arms[j]!) < threshold) beatsAll = false;
    }
    if (beatsAll) return i;
  }
  return undefined;
}

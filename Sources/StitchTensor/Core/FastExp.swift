/// e^x in float32 without a library call or a float-to-integer conversion (which traps out of range in Swift and
/// so keeps loops scalar), so that elementwise loops over it vectorise: libm's `expf` is called one element at a
/// time, and in the dynamics ensemble's update SiLU's `expf` was a third of the time.
///
/// Cephes' `expf` (S. Moshier, Cephes Math Library, `expf.c`): n = round(x·log₂e); r = x − n·C₁ − n·C₂ with
/// C₁ = 0.693359375 and C₂ = −2.12194440e-4 (ln 2 split so n·C₁ is exact); e^r = 1 + r + r²·P(r) with Cephes'
/// degree-5 P; then times 2ⁿ built from the exponent bits. n is rounded by adding 1.5·2²³ (the float's integer
/// bits then hold n). Relative error below 2.5e-7 on [−87.3, 88.7] (tested against double-precision exp).
/// Outside: inf above 88.72284, 0 below −103.97, and e^−87.34 in between instead of subnormals; NaN stays NaN.
@inline(__always)
public func vectorExp(_ x: Float) -> Float {
  let clamped = Swift.min(Swift.max(x, -87.33654), 88.72283)
  let shifted = clamped * 1.44269504088896341 + 12_582_912
  let n = shifted - 12_582_912
  let r = clamped - n * 0.693359375 + n * 2.12194440e-4
  var p: Float = 1.9875691500e-4
  p = p * r + 1.3981999507e-3
  p = p * r + 8.3334519073e-3
  p = p * r + 4.1665795894e-2
  p = p * r + 1.6666665459e-1
  p = p * r + 5.0000001201e-1
  let er = p * r * r + r + 1
  // The integer n sits in the low mantissa bits of `shifted` (offset 0x4B40_0000). n = 128 (x near 88.7) would
  // overflow the exponent field: build 2^(n−1) and double the product instead.
  let ni = shifted.bitPattern &- 0x4B40_0000
  let high: UInt32 = n > 127 ? 1 : 0
  let scale = Float(bitPattern: (ni &+ 127 &- high) << 23)
  var y = er * scale * (high == 1 ? 2 : 1)
  y = x > 88.72284 ? .infinity : y
  y = x < -103.972 ? 0 : y
  return x != x ? x : y
}

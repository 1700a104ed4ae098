#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded, splittable stream of random numbers: PCG-XSH-RR 64/32 with a stream id
/// (O'Neill 2014, "PCG: A Family of Simple Fast Space-Efficient Statistically Good Algorithms for Random Number
/// Generation", §6.3.1 and the reference `pcg32` with `inc = (stream << 1) | 1`).
///
/// Every component of a run draws from its own stream (`split(_:)` or `child(named:)`): network initialisation,
/// minibatch sampling, exploration noise and environment resets do not perturb each other, and the same seed gives
/// bit-identical results. The whole state is two `UInt64`s (`state`), saved with checkpoints for exact resume.
///
/// ```swift
/// var root = RandomStream(seed: 0)
/// var initStream = root.child(named: "init")
/// let w = Tensor.uniform([256, 17], in: -0.1...0.1, using: &initStream)
/// ```
public struct RandomStream: RandomNumberGenerator, Sendable, Codable, Equatable {
  /// The generator's internal state and increment (the increment encodes the stream id).
  public private(set) var state: UInt64
  public private(set) var increment: UInt64

  /// A stream determined by `seed` and `stream` (distinct streams of the same seed are independent sequences).
  public init(seed: UInt64, stream: UInt64 = 0) {
    increment = (stream << 1) | 1
    state = 0
    _ = nextUInt32()
    state &+= RandomStream.mix(seed)
    _ = nextUInt32()
  }

  /// The reference `pcg32_srandom_r(initstate, initseq)` seeding, without Stitch's seed mixing (for checking
  /// the generator against the published reference sequence).
  public init(pcgReferenceSeed seed: UInt64, stream: UInt64) {
    increment = (stream << 1) | 1
    state = 0
    _ = nextUInt32()
    state &+= seed
    _ = nextUInt32()
  }

  /// Restores a stream from its saved state.
  public init(state: UInt64, increment: UInt64) {
    self.state = state
    self.increment = increment | 1
  }

  /// SplitMix64's finaliser (Steele, Lea & Flood 2014): spreads seeds and ids over all 64 bits.
  static func mix(_ z0: UInt64) -> UInt64 {
    var z = z0 &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A new independent stream derived from this one's current state and `id`; this stream is not advanced.
  public func split(_ id: UInt64) -> RandomStream {
    RandomStream(seed: RandomStream.mix(state ^ RandomStream.mix(id)), stream: RandomStream.mix(increment &+ id))
  }

  /// A new independent stream for a named component ("init", "batches", "exploration", "env").
  public func child(named name: String) -> RandomStream {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a 64
    for byte in name.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return split(h)
  }

  /// The next 32 random bits.
  public mutating func nextUInt32() -> UInt32 {
    let old = state
    state = old &* 6_364_136_223_846_793_005 &+ increment
    let xorshifted = UInt32(truncatingIfNeeded: ((old >> 18) ^ old) >> 27)
    let rot = UInt32(truncatingIfNeeded: old >> 59)
    return (xorshifted >> rot) | (xorshifted << ((~rot &+ 1) & 31))
  }

  /// The next 64 random bits (two 32-bit outputs, high word first).
  public mutating func next() -> UInt64 {
    (UInt64(nextUInt32()) << 32) | UInt64(nextUInt32())
  }

  /// Uniform in [0, 1) with 24 random bits.
  public mutating func nextFloat() -> Float { Float(nextUInt32() >> 8) * 0x1p-24 }

  /// Uniform in [0, 1) with 53 random bits.
  public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// Uniform integer in 0..<bound (Lemire's nearly divisionless method, unbiased).
  public mutating func nextInt(below bound: Int) -> Int {
    precondition(bound > 0, "nextInt(below:) needs a positive bound")
    // Lemire's multiply-and-reject (arXiv 1805.10941), written out so it inlines; the same arithmetic and draws as
    // the standard library's `next(upperBound:)`, which this replaced, so seeded results are unchanged.
    let upper = UInt64(bound)
    var m = next().multipliedFullWidth(by: upper)
    if m.low < upper {
      let t = (0 &- upper) % upper
      while m.low < t { m = next().multipliedFullWidth(by: upper) }
    }
    return Int(truncatingIfNeeded: m.high)
  }

  /// A standard normal sample by the Box–Muller transform (Box & Muller 1958) on two uniforms; one of the pair is
  /// used, so the stream's state stays two integers.
  public mutating func nextNormal() -> Double {
    let u1 = 1 - nextDouble()  // (0, 1]
    let u2 = nextDouble()
    return (-2 * Foundation_log(u1)).squareRoot() * Foundation_cos(2 * Double.pi * u2)
  }
}

@inline(__always) func Foundation_log(_ x: Double) -> Double { log(x) }
@inline(__always) func Foundation_cos(_ x: Double) -> Double { cos(x) }
@inline(__always) func Foundation_sin(_ x: Double) -> Double { sin(x) }

extension Tensor {
  /// Independent U(range) samples.
  public static func uniform(_ shape: [Int], in range: ClosedRange<Float>, using rng: inout RandomStream) -> Tensor {
    var t = Tensor(uninitializedShape: shape)
    let lo = range.lowerBound, width = range.upperBound - range.lowerBound
    t.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = lo + width * rng.nextFloat() } }
    return t
  }

  /// Independent N(mean, std²) samples; pairs of the Box–Muller transform fill consecutive elements.
  public static func normal(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1, using rng: inout RandomStream) -> Tensor {
    var t = Tensor(uninitializedShape: shape)
    t.withUnsafeMutableBufferPointer { p in
      var i = 0
      while i < p.count {
        let u1 = 1 - rng.nextDouble(), u2 = rng.nextDouble()
        let r = (-2 * Foundation_log(u1)).squareRoot(), theta = 2 * Double.pi * u2
        p[i] = mean + standardDeviation * Float(r * Foundation_cos(theta))
        if i + 1 < p.count { p[i + 1] = mean + standardDeviation * Float(r * Foundation_sin(theta)) }
        i += 2
      }
    }
    return t
  }
}

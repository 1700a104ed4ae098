import StitchData
import StitchNN
import StitchTensor

/// A configuration that can say which of its values no update could run with (a discount above 1, zero sampled
/// actions, a hidden layer of width 0). `ConfigResolver.resolve` calls it after applying a file and `--set`
/// overrides, so a bad value is refused with its key and its allowed range before any run folder is written,
/// instead of trapping inside a matrix product or training silently on nonsense.
public protocol CheckedConfiguration {
  /// Records each out-of-range value in `checks` (keys in the snake_case of `--set` and `config.json`).
  func check(_ checks: inout ConfigChecks)
  /// The reference implementation's names for hyperparameters spelled otherwise here (CORL's `cql_alpha` →
  /// `conservative_weight`), so that a user who types the name from the paper's code is told the key.
  static var referenceNames: [String: String] { get }
  /// Keys this configuration spelled otherwise in earlier releases (old snake_case key → current key), so that a
  /// run folder's `config.json` written before a rename still resumes (`RunConfigFile` maps them on reading).
  static var formerKeys: [String: String] { get }
}

extension CheckedConfiguration {
  public static var referenceNames: [String: String] { [:] }
  public static var formerKeys: [String: String] { [:] }
}

/// The problems found in one configuration, each naming its key, its value and the range it must lie in.
public struct ConfigChecks: Sendable {
  public private(set) var problems: [String] = []

  public init() {}

  /// Records `rule` for `key` unless `holds`.
  public mutating func require(_ holds: Bool, _ key: String, _ value: some CustomStringConvertible, _ rule: String) {
    if !holds { problems.append("\(key) = \(value) \(rule)") }
  }

  /// A finite value > 0 (temperatures of softmax-like terms, clipping bounds).
  public mutating func positive(_ key: String, _ value: Float) {
    require(value.isFinite && value > 0, key, value, "must be a finite number > 0")
  }

  /// A finite value ≥ 0 (penalty weights, learning rates, noise scales).
  public mutating func nonNegative(_ key: String, _ value: Float) {
    require(value.isFinite && value >= 0, key, value, "must be a finite number ≥ 0")
  }

  /// Any finite value (offsets, targets that may be negative).
  public mutating func finite(_ key: String, _ value: Float) {
    require(value.isFinite, key, value, "must be a finite number")
  }

  /// A discount factor γ ∈ [0, 1].
  public mutating func discount(_ key: String, _ value: Float) {
    require(value >= 0 && value <= 1, key, value, "must lie in [0, 1]")
  }

  /// A Polyak rate τ ∈ (0, 1] (1 copies the online network; 0 would never move the target).
  public mutating func polyakRate(_ key: String, _ value: Float) {
    require(value > 0 && value <= 1, key, value, "must lie in (0, 1]")
  }

  /// A value strictly inside (0, 1) (IQL's expectile: 0 and 1 make the loss one-sided).
  public mutating func openUnitInterval(_ key: String, _ value: Float) {
    require(value > 0 && value < 1, key, value, "must lie strictly between 0 and 1")
  }

  /// An integer ≥ `minimum`.
  public mutating func atLeast(_ key: String, _ value: Int, _ minimum: Int) {
    require(value >= minimum, key, value, "must be at least \(minimum)")
  }

  /// Hidden-layer widths: every width ≥ 1, and at least one layer unless `allowEmpty` (the reference networks all
  /// have hidden layers; the ensemble critics and the log-std heads assume one).
  public mutating func layerSizes(_ key: String, _ sizes: [Int], allowEmpty: Bool = false) {
    let shown = "[" + sizes.map(String.init).joined(separator: ", ") + "]"
    require(sizes.allSatisfy { $0 >= 1 }, key, shown, "must list widths of at least 1")
    if !allowEmpty { require(!sizes.isEmpty, key, shown, "must list at least one hidden layer") }
  }

  /// The bootstrapped target every critic-based method has: γ ∈ [0, 1] (`discount`) and Polyak τ ∈ (0, 1]
  /// (`target_update_rate`).
  public mutating func bootstrapTarget(discount γ: Float, targetUpdateRate τ: Float) {
    discount("discount", γ)
    polyakRate("target_update_rate", τ)
  }

  /// TD3's target-policy smoothing and delayed actor (TD3+BC, ReBRAC): noise σ ≥ 0, clip c ≥ 0, delay d ≥ 1.
  public mutating func targetSmoothing(policyNoise σ: Float, noiseClip c: Float, actorDelay d: Int) {
    nonNegative("policy_noise", σ)
    nonNegative("noise_clip", c)
    atLeast("actor_delay", d, 1)
  }

  /// Learning rates, each a finite value ≥ 0, by key.
  public mutating func learningRates(_ rates: KeyValuePairs<String, Float>) {
    for (key, rate) in rates { nonNegative(key, rate) }
  }
}

import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN

import StitchTensor

/// Resolves an algorithm's configuration from its defaults, an optional file and `--set key=value` overrides.
///
/// Keys are the configuration's property names in snake_case (`q_weight`, `target_update_rate`), the same
/// spelling in config files, on the command line and in the resolved `config.json` saved in a run folder.
/// Any `Codable` configuration works: defaults are encoded to a key-value map, the file's keys and the
/// overrides replace entries (each converted to the type of the default it replaces), and the map is decoded
/// back. An unknown key is an error that names the closest known key (CORL and cleanrl users expect typos to be
/// caught, not silently ignored), or, for a name from CORL's scripts (`cql_alpha`, `iql_tau`, `policy_freq`), the
/// key that holds the same hyperparameter here. Values are then checked (`CheckedConfiguration`): a discount of
/// 1.5 or zero sampled actions is an error naming the key and its range.
public enum ConfigResolver {
  /// Errors found while resolving a configuration.
  public enum ResolveError: Error, CustomStringConvertible, Equatable {
    case unknownKey(String, suggestion: String?, known: [String])
    /// A key that is not a hyperparameter here but a `stitch train` option (CORL's `batch_size`, `normalize`).
    case commandLineOption(String, option: String)
    /// A name from the reference implementation (CORL's `cql_alpha`) for a hyperparameter spelled otherwise here.
    case referenceName(String, key: String)
    /// A key this configuration spelled otherwise in an earlier release (IQL's `temperature`, now `beta`).
    case formerKey(String, key: String)
    case badValue(key: String, value: String, expected: String)
    /// Values outside their ranges, one line each (`discount = 1.5 must lie in [0, 1]`).
    case outOfRange([String])
    case malformedOverride(String)
    case unreadableFile(String, reason: String)

    public var description: String {
      switch self {
      case .unknownKey(let key, let suggestion, let known):
        let hint = suggestion.map { " Did you mean '\($0)'?" } ?? ""
        return "unknown configuration key '\(key)'.\(hint) Known keys: \(known.joined(separator: ", "))"
      case .commandLineOption(let key, let option):
        return "'\(key)' is not a hyperparameter of this algorithm but an option of `stitch train`: use \(option)"
      case .referenceName(let name, let key):
        return "unknown configuration key '\(name)': CORL's \(name) is '\(key)' here (--set \(key)=VALUE)"
      case .formerKey(let name, let key):
        return "unknown configuration key '\(name)': it is now called '\(key)' (--set \(key)=VALUE)"
      case .outOfRange(let problems):
        return "invalid configuration: " + problems.joined(separator: "; ")
      case .badValue(let key, let value, let expected):
        return "configuration key '\(key)': cannot use '\(value)' as \(expected)"
      case .malformedOverride(let text):
        return "override '\(text)' is not of the form key=value"
      case .unreadableFile(let path, let reason):
        return "cannot read configuration file \(path): \(reason)"
      }
    }
  }

  /// The defaults of `type`'s configuration as an ordered key-value list (for help text and run folders).
  public static func entries<C: Encodable>(of configuration: C) throws -> [(key: String, value: ConfigValue)] {
    let map = try encode(configuration)
    return map.keys.sorted().map { ($0, map[$0]!) }
  }

  /// Applies the preset, then the file (JSON or TOML, chosen by extension), then the overrides to `defaults`.
  /// - Parameters:
  ///   - defaults: the algorithm's named defaults (its paper's values).
  ///   - presets: `key=value` strings of a per-dataset preset (`CORLPresets`), applied first.
  ///   - file: an optional `.json` or `.toml` file of key-value pairs; later overrides win over it.
  ///   - overrides: `key=value` strings from `--set`.
  /// - Throws: `ResolveError` naming the key and the problem.
  public static func resolve<C: Codable>(_ defaults: C, presets: [String] = [], file: URL? = nil, overrides: [String] = []) throws -> C {
    var map = try encode(defaults)
    let checked = C.self as? any CheckedConfiguration.Type
    let names = KnownNames(references: checked?.referenceNames ?? [:], formerKeys: checked?.formerKeys ?? [:])
    for text in presets { try apply(override: text, to: &map, names: names) }
    if let file {
      let text: String
      do { text = try String(contentsOf: file, encoding: .utf8) } catch {
        throw ResolveError.unreadableFile(file.path, reason: error.localizedDescription)
      }
      let pairs: [(String, ConfigValue)]
      do {
        pairs = file.pathExtension.lowercased() == "toml" ? try FlatTOML.parse(text) : try ConfigValue.parseJSONObject(text)
      } catch {
        throw ResolveError.unreadableFile(file.path, reason: "\(error)")
      }
      for (key, value) in pairs { try assign(value, to: key, in: &map, names: names) }
    }
    for text in overrides { try apply(override: text, to: &map, names: names) }
    let data = try JSONSerialization.data(withJSONObject: map.mapValues(\.jsonObject), options: [.sortedKeys])
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let resolved: C
    do { resolved = try decoder.decode(C.self, from: data) } catch let error as DecodingError {
      throw ResolveError.describing(error, values: map, defaults: try encode(defaults)) { trial in
        guard let data = try? JSONSerialization.data(withJSONObject: trial.mapValues(\.jsonObject)) else { return false }
        return (try? decoder.decode(C.self, from: data)) != nil
      }
    }
    try check(resolved)
    return resolved
  }

  /// Throws `outOfRange` listing every value of `configuration` outside its range (nothing for configurations
  /// that do not declare ranges).
  public static func check<C>(_ configuration: C) throws {
    guard let checked = configuration as? any CheckedConfiguration else { return }
    var checks = ConfigChecks()
    checked.check(&checks)
    if !checks.problems.isEmpty { throw ResolveError.outOfRange(checks.problems) }
  }

  /// CORL names of loop settings, which `stitch train` takes as options rather than hyperparameters.
  public static let commandLineOptions: [String: String] = [
    "batch_size": "--batch-size N", "normalize": "--normalize-observations (or --no-normalize-observations)",
    "normalize_states": "--normalize-observations (or --no-normalize-observations)",
    "normalize_reward": "--normalize-rewards", "normalize_rewards": "--normalize-rewards", "max_timesteps": "--steps N",
    "steps": "--steps N", "eval_freq": "--eval-every N", "n_episodes": "--eval-episodes N", "eval_episodes": "--eval-episodes N",
    "seed": "--seeds K[,K...]", "train_seed": "--seeds K[,K...]",
  ]

  /// The configuration as pretty, key-sorted JSON (what a run folder's `config.json` holds).
  public static func json<C: Encodable>(_ configuration: C) throws -> String {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(configuration), as: UTF8.self)
  }

  static func encode<C: Encodable>(_ configuration: C) throws -> [String: ConfigValue] {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    let object = try JSONSerialization.jsonObject(with: encoder.encode(configuration))
    guard let dict = object as? [String: Any] else { return [:] }
    return dict.mapValues(ConfigValue.init(jsonObject:))
  }

  /// One `key=value` string applied to `map`.
  /// Names that are not keys but point to one: the reference implementation's (`CheckedConfiguration.referenceNames`)
  /// and earlier releases' (`formerKeys`).
  struct KnownNames {
    var references: [String: String] = [:]
    var formerKeys: [String: String] = [:]
  }

  static func apply(override text: String, to map: inout [String: ConfigValue], names: KnownNames) throws {
    guard let eq = text.firstIndex(of: "=") else { throw ResolveError.malformedOverride(text) }
    let key = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
    let raw = String(text[text.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
    guard !key.isEmpty else { throw ResolveError.malformedOverride(text) }
    try assign(.text(raw), to: key, in: &map, names: names)
  }

  static func assign(_ value: ConfigValue, to key: String, in map: inout [String: ConfigValue],
                     names: KnownNames = KnownNames()) throws {
    guard let current = map[key] else {
      let known = map.keys.sorted()
      if let renamed = names.formerKeys[key], map[renamed] != nil { throw ResolveError.formerKey(key, key: renamed) }
      if let reference = names.references[key], map[reference] != nil { throw ResolveError.referenceName(key, key: reference) }
      if let option = commandLineOptions[key] { throw ResolveError.commandLineOption(key, option: option) }
      throw ResolveError.unknownKey(key, suggestion: closest(to: key, in: known), known: known)
    }
    map[key] = try value.converted(like: current, key: key)
  }

  /// The known key with the smallest edit distance to `key`, if it is close enough to be a plausible typo.
  public static func closest(to key: String, in known: [String]) -> String? {
    let scored = known.map { ($0, editDistance(key, $0)) }.min { $0.1 < $1.1 }
    guard let (best, distance) = scored, distance <= max(2, key.count / 3) else { return nil }
    return best
  }

  /// Levenshtein distance between two strings.
  public static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      swap(&previous, &current)
    }
    return previous[b.count]
  }
}

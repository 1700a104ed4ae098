import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor

/// One configuration value: what a JSON/TOML file or a `--set` string can hold.
public indirect enum ConfigValue: Equatable, CustomStringConvertible {
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([ConfigValue])
  /// Unparsed text from the command line, typed by the default it replaces.
  case text(String)

  init(jsonObject: Any) {
    switch jsonObject {
    case let n as NSNumber:
      // JSONSerialization gives booleans as NSNumber too ("1 is Bool" holds): tell them apart by the
      // Objective-C type code, which is "c" (char) only for booleans.
      if String(cString: n.objCType) == "c" { self = .bool(n.boolValue) } else { self = .number(n.doubleValue) }
    case let s as String: self = .string(s)
    case let a as [Any]: self = .array(a.map(ConfigValue.init(jsonObject:)))
    default: self = .string(String(describing: jsonObject))
    }
  }

  var jsonObject: Any {
    switch self {
    case .bool(let b): return b
    case .number(let x): return x
    case .string(let s), .text(let s): return s
    case .array(let items): return items.map(\.jsonObject)
    }
  }

  public var description: String {
    switch self {
    case .bool(let b): return String(b)
    case .number(let x): return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    case .string(let s): return "\"\(s)\""
    case .text(let s): return s
    case .array(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
    }
  }

  /// This value converted to the kind of `template` (the default it replaces).
  func converted(like template: ConfigValue, key: String) throws -> ConfigValue {
    let bad = { (expected: String) in ConfigResolver.ResolveError.badValue(key: key, value: self.description, expected: expected) }
    switch (template, self) {
    case (.bool, .bool), (.number, .number), (.string, .string): return self
    case (.bool, .text(let s)):
      switch s.lowercased() {
      case "true", "1", "yes", "on": return .bool(true)
      case "false", "0", "no", "off": return .bool(false)
      default: throw bad("a boolean (true/false)")
      }
    case (.number, .text(let s)):
      guard let x = Double(s), x.isFinite else { throw bad("a number") }
      return .number(x)
    case (.string, .text(let s)): return .string(s)
    case (.array(let items), .text(let s)):
      let inner = s.hasPrefix("[") && s.hasSuffix("]") ? String(s.dropFirst().dropLast()) : s
      let parts = inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
      let element = items.first ?? .number(0)
      return .array(try parts.map { try ConfigValue.text($0).converted(like: element, key: key) })
    case (.array(let items), .array(let values)):
      let element = items.first ?? values.first ?? .number(0)
      return .array(try values.map { try $0.converted(like: element, key: key) })
    default:
      throw bad(template.kindName)
    }
  }

  var kindName: String {
    switch self {
    case .bool: return "a boolean"
    case .number: return "a number"
    case .string, .text: return "a string"
    case .array: return "a list"
    }
  }

  /// The top-level key-value pairs of a JSON object.
  static func parseJSONObject(_ text: String) throws -> [(String, ConfigValue)] {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
    guard let dict = object as? [String: Any] else {
      throw ConfigResolver.ResolveError.unreadableFile("(json)", reason: "the top level is not an object")
    }
    return dict.keys.sorted().map { ($0, ConfigValue(jsonObject: dict[$0]!)) }
  }
}

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

extension ConfigResolver.ResolveError {
  /// A failure to decode the resolved key-value map into the configuration type, as the key, the value given and
  /// the type the key holds (`configuration key 'actor_delay': cannot use '2.5' as an integer`). The map's
  /// values are typed by the defaults' JSON, where an integer field and a whole-number real field look alike, so
  /// only the decoder knows that `actor_delay` takes an integer. When the decoder's error names no key (Foundation
  /// reports a real number for an integer field as invalid JSON), each changed key is tried alone on the defaults
  /// (`decodes`) to find the one the type refuses.
  static func describing(_ error: DecodingError, values: [String: ConfigValue], defaults: [String: ConfigValue],
                         decodes: ([String: ConfigValue]) -> Bool) -> ConfigResolver.ResolveError {
    let changed = values.keys.sorted().filter { values[$0] != defaults[$0] }
    if Self.codingPath(of: error).isEmpty, let key = changed.first(where: { key in
      var trial = defaults
      trial[key] = values[key]
      return !decodes(trial)
    }), let value = values[key] {
      let integral = { (v: ConfigValue?) -> Bool in if case .number(let x)? = v { return x == x.rounded() } else { return false } }
      let isNumber = { (v: ConfigValue) -> Bool in if case .number = v { return true } else { return false } }
      let expected: String
      if integral(defaults[key]), isNumber(value), !integral(value) {
        expected = "an integer"
      } else if case .array(let items)? = defaults[key], items.allSatisfy({ integral($0) }), case .array(let given) = value,
                given.contains(where: { isNumber($0) && !integral($0) }) {
        expected = "a list of integers"
      } else {
        expected = defaults[key]?.kindName ?? "the key's type"
      }
      return .badValue(key: key, value: value.description, expected: expected)
    }
    return describing(error, values: values)
  }

  static func codingPath(of error: DecodingError) -> [any CodingKey] {
    switch error {
    case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c): return c.codingPath
    @unknown default: return []
    }
  }

  static func describing(_ error: DecodingError, values: [String: ConfigValue]) -> ConfigResolver.ResolveError {
    let path: [any CodingKey], expected: String
    switch error {
    case .typeMismatch(let type, let context): path = context.codingPath; expected = Self.kind(of: type, detail: "")
    case .dataCorrupted(let context): path = context.codingPath; expected = Self.kind(of: nil, detail: context.debugDescription)
    case .valueNotFound(let type, let context): path = context.codingPath; expected = Self.kind(of: type, detail: "")
    case .keyNotFound(let key, let context): path = context.codingPath + [key]; expected = "a value"
    @unknown default: return .badValue(key: "?", value: "?", expected: "\(error)")
    }
    let key = path.first.map { Self.snakeCase($0.stringValue) } ?? "?"
    var value = values[key]?.description ?? "?"
    if path.count > 1, let index = path[1].intValue, case .array(let items)? = values[key], index < items.count { value = items[index].description }
    return .badValue(key: key, value: value, expected: expected)
  }

  /// "an integer", "a number", ... for the Swift type a decoder expected (or named in its message).
  static func kind(of type: Any.Type?, detail: String) -> String {
    let name = type.map { String(describing: $0) } ?? detail
    for (spelling, kind) in [("UInt", "a non-negative integer"), ("Int", "an integer"), ("Float", "a number"), ("Double", "a number"),
                             ("Bool", "a boolean (true/false)"), ("String", "a string"), ("Array", "a list")] where name.contains(spelling) {
      return kind
    }
    return detail.isEmpty ? name : "the key's type (\(detail))"
  }

  /// `actorDelay` → `actor_delay` (coding paths may hold either spelling).
  static func snakeCase(_ key: String) -> String {
    var out = ""
    for c in key {
      if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
    }
    return out
  }
}

import Foundation

/// A small JSON value that prints with keys in the order given (benchmark and log output are read by people too).
indirect enum JSONText: CustomStringConvertible {
  case string(String)
  case number(Double)
  case integer(Int)
  case bool(Bool)
  case null
  case array([JSONText])
  case object([(String, JSONText)])

  var description: String {
    switch self {
    case .string(let s): return JSONText.quote(s)
    case .number(let x):
      guard x.isFinite else { return "null" }
      return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    case .integer(let i): return String(i)
    case .bool(let b): return b ? "true" : "false"
    case .null: return "null"
    case .array(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
    case .object(let pairs):
      return "{" + pairs.map { JSONText.quote($0.0) + ": " + $0.1.description }.joined(separator: ", ") + "}"
    }
  }

  static func quote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
      }
    }
    return out + "\""
  }
}

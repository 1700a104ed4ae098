import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN

import StitchTensor

/// A parser for the flat subset of TOML that configuration files use: `key = value` lines with strings,
/// numbers, booleans and one-line arrays, and `#` comments.
///
/// Tables (`[section]`), inline tables and multi-line values are refused with an error naming the line, rather
/// than silently ignored. (A full TOML library would add a C++ build to every CI run for no gain here.)
enum FlatTOML {
  struct ParseError: Error, CustomStringConvertible {
    var line: Int
    var message: String
    var description: String { "TOML line \(line): \(message)" }
  }

  static func parse(_ text: String) throws -> [(String, ConfigValue)] {
    var pairs: [(String, ConfigValue)] = []
    var seen = Set<String>()
    for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let lineNumber = index + 1
      let line = stripComment(String(rawLine)).trimmingCharacters(in: .whitespaces)
      if line.isEmpty { continue }
      if line.hasPrefix("[") {
        throw ParseError(line: lineNumber, message: "tables such as \(line) are not supported; use flat key = value pairs")
      }
      guard let eq = line.firstIndex(of: "=") else { throw ParseError(line: lineNumber, message: "expected key = value") }
      var key = line[..<eq].trimmingCharacters(in: .whitespaces)
      if key.count >= 2, key.first == "\"", key.last == "\"" { key = String(key.dropFirst().dropLast()) }
      guard !key.isEmpty else { throw ParseError(line: lineNumber, message: "empty key") }
      guard seen.insert(key).inserted else { throw ParseError(line: lineNumber, message: "duplicate key '\(key)'") }
      let valueText = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
      pairs.append((key, try value(valueText, line: lineNumber)))
    }
    return pairs
  }

  static func value(_ text: String, line: Int) throws -> ConfigValue {
    if text == "true" { return .bool(true) }
    if text == "false" { return .bool(false) }
    if (text.hasPrefix("\"") && text.hasSuffix("\"") || text.hasPrefix("'") && text.hasSuffix("'")) && text.count >= 2 {
      return .string(String(text.dropFirst().dropLast()))
    }
    if text.hasPrefix("[") {
      guard text.hasSuffix("]") else { throw ParseError(line: line, message: "arrays must close on the same line") }
      let inner = text.dropFirst().dropLast()
      let parts = inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
      return .array(try parts.map { try value($0, line: line) })
    }
    if let x = Double(text.replacingOccurrences(of: "_", with: "")) { return .number(x) }
    throw ParseError(line: line, message: "cannot read value '\(text)'")
  }

  /// The line without a trailing `#` comment (a `#` inside quotes is kept).
  static func stripComment(_ line: String) -> String {
    var inQuote: Character? = nil
    for (offset, c) in line.enumerated() {
      if let q = inQuote { if c == q { inQuote = nil } } else if c == "\"" || c == "'" { inQuote = c } else if c == "#" {
        return String(line.prefix(offset))
      }
    }
    return line
  }
}

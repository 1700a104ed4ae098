import Foundation
import StitchNN

import StitchTensor

extension TestSupport {
  /// What differs between two run folders that should hold the same run (an uninterrupted one and one stopped or
  /// killed and resumed): every checkpoint tensor bit for bit, every metadata entry, and `metrics.jsonl`. Empty
  /// when they agree; a folder without tensors counts as a difference, so the comparison cannot pass vacuously.
  public static func runFolderDifferences(_ a: URL, _ b: URL) throws -> [String] {
    let x = try Checkpoint.read(from: a.appendingPathComponent("checkpoint.safetensors"))
    let y = try Checkpoint.read(from: b.appendingPathComponent("checkpoint.safetensors"))
    var out: [String] = []
    if x.tensors.isEmpty || x.tensors.count != y.tensors.count { out.append("tensor sets differ: \(x.tensors.count) vs \(y.tensors.count)") }
    for (key, t) in x.tensors.sorted(by: { $0.key < $1.key }) where !(y.tensors[key].map { t.isIdentical(to: $0) } ?? false) {
      out.append("tensor \(key)")
    }
    for (key, value) in x.metadata.sorted(by: { $0.key < $1.key }) where y.metadata[key] != value { out.append("metadata \(key)") }
    let logX = try String(contentsOf: a.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
    let logY = try String(contentsOf: b.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
    if logX != logY { out.append("metrics.jsonl") }
    return out
  }
}

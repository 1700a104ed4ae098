import ArgumentParser
import Foundation

import Stitch

/// `OUT/sweep.json`: the sweep file's hash and path, and every cell's folder, status (pending, running, finished,
/// failed, stopped), log and error; rewritten atomically at every change.
struct SweepManifest: Codable {
  struct Entry: Codable {
    var run: String
    var seed: UInt64
    var status: String
    var log: String?
    var error: String?
  }

  var specHash: String
  var specPath: String
  var cells: [Entry]
  var url: URL? = nil

  enum CodingKeys: String, CodingKey { case specHash = "spec_hash", specPath = "spec_path", cells }

  static func open(_ root: URL, specHash: String, specPath: String, cells: [SweepSpec.Cell], force: Bool) throws -> SweepManifest {
    let url = root.appendingPathComponent("sweep.json")
    var previous: [String: Entry] = [:]
    if let data = try? Data(contentsOf: url) {
      guard let old = try? JSONDecoder().decode(SweepManifest.self, from: data) else {
        throw ValidationError("\(url.path) is not a sweep manifest; choose another --out")
      }
      if old.specHash != specHash, !force {
        throw ValidationError("\(root.path) holds the cells of another sweep file (\(old.specPath)); choose another --out, or pass --force to use it")
      }
      for e in old.cells { previous["\(e.run)/\(e.seed)"] = e }
    }
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    var m = SweepManifest(specHash: specHash, specPath: specPath, cells: cells.map { c in
      var e = previous["\(c.run)/\(c.seed)"] ?? Entry(run: c.run, seed: c.seed, status: "pending")
      if e.status == "running" { e.status = "stopped" }
      return e
    })
    m.url = url
    try m.write()
    return m
  }

  /// The manifest of the sweep in `root`, as written.
  static func load(_ root: URL) throws -> SweepManifest {
    let url = root.appendingPathComponent("sweep.json")
    guard let data = try? Data(contentsOf: url) else {
      throw ValidationError("\(root.path) holds no sweep manifest (sweep.json): not a folder made by `stitch sweep`")
    }
    guard var m = try? JSONDecoder().decode(SweepManifest.self, from: data) else {
      throw ValidationError("\(url.path) is not a sweep manifest")
    }
    m.url = url
    return m
  }

  /// Reads, changes and rewrites the manifest while holding `root/.sweep-lock` (flock, waiting for other holders):
  /// the tasks of a Slurm array update their own cells at the same time.
  static func update(_ root: URL, _ change: (inout SweepManifest) -> Void) throws {
    let path = root.appendingPathComponent(".sweep-lock").path
    let fd = Foundation.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw ValidationError("cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    while flock(fd, LOCK_EX) != 0 {
      guard errno == EINTR else { throw ValidationError("cannot lock \(path): \(String(cString: strerror(errno)))") }
    }
    defer { flock(fd, LOCK_UN) }
    var m = try load(root)
    change(&m)
    try m.write()
  }

  func write() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(try encoder.encode(self), to: url!)
  }
}

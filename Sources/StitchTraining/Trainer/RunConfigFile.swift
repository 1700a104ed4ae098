import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN

import StitchTensor

/// A run folder's `config.json`: the algorithm id, its resolved configuration and the training options, in
/// snake_case keys. Shared by the offline and online trainers (written at the start of a run, read to resume).
struct RunConfigFile<C: Codable>: Codable {
  var algorithm: String
  var configuration: C
  var options: TrainingOptions

  static func url(in folder: URL) -> URL { folder.appendingPathComponent("config.json") }

  /// Writes the file atomically.
  func write(to folder: URL) throws {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(try encoder.encode(self), to: Self.url(in: folder))
  }

  /// Reads a run folder's `config.json`; with `defaults`, completes an older file's configuration (`completed`).
  static func read(from folder: URL, defaults: C? = nil) throws -> RunConfigFile<C> {
    let file = url(in: folder)
    guard let data = FileManager.default.contents(atPath: file.path) else {
      var isFolder: ObjCBool = false
      if !FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) || !isFolder.boolValue {
        throw RunFolderError("\(folder.path): no such run folder (expected RUN/seed_K, as written by `stitch train`)")
      }
      throw RunFolderError("\(folder.path) has no config.json: not a run folder written by `stitch train` (expected RUN/seed_K)")
    }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    do {
      return try decoder.decode(RunConfigFile<C>.self, from: defaults.map { try completed(data, defaults: $0, file: file) } ?? data)
    } catch let error as RunFolderError {
      throw error
    } catch {
      throw RunFolderError("\(file.path) is not a run configuration this Stitch can read: \(error)")
    }
  }

  /// The file's configuration completed with `defaults` for keys added since it was written, and keys renamed
  /// since (`CheckedConfiguration.formerKeys`) under their current names, so an older run folder resumes with the
  /// values it trained with. A key this Stitch does not know is an error naming it (a value silently dropped
  /// would resume a different run).
  static func completed(_ data: Data, defaults: C, file: URL) throws -> Data {
    guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
          var saved = object["configuration"] as? [String: Any] else { return data }
    let known = try ConfigResolver.encode(defaults).mapValues(\.jsonObject)
    for (old, new) in (C.self as? any CheckedConfiguration.Type)?.formerKeys ?? [:] where saved[old] != nil && saved[new] == nil {
      saved[new] = saved.removeValue(forKey: old)
    }
    let unknown = saved.keys.filter { known[$0] == nil }.sorted()
    guard unknown.isEmpty else {
      throw RunFolderError("\(file.path): configuration key(s) \(unknown.joined(separator: ", ")) are not hyperparameters of this Stitch's \(object["algorithm"] ?? "algorithm") (known: \(known.keys.sorted().joined(separator: ", ")))")
    }
    object["configuration"] = known.merging(saved) { _, fromFile in fromFile }
    return try JSONSerialization.data(withJSONObject: object)
  }
}

/// What a seed folder's `config.json` says about its run, read without knowing the algorithm's configuration
/// type (to pick that type, or to name a run with no finished seed): nil when the folder has no readable one.
public enum RunFolderIdentity {
  public static func read(_ folder: URL) -> (algorithm: String, environment: String?)? {
    guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("config.json").path),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let algorithm = object["algorithm"] as? String else { return nil }
    return (algorithm, (object["options"] as? [String: Any])?["environment"] as? String)
  }
}

/// A run folder that cannot be used: missing, or its `config.json` missing or unreadable.
public struct RunFolderError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}

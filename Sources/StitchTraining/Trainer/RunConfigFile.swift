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

  static func read(from folder: URL) throws -> RunConfigFile<C> {
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
      return try decoder.decode(RunConfigFile<C>.self, from: data)
    } catch {
      throw RunFolderError("\(file.path) is not a run configuration this Stitch can read: \(error)")
    }
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

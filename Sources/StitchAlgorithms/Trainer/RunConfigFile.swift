import Foundation

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
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(RunConfigFile<C>.self, from: try Data(contentsOf: url(in: folder)))
  }
}

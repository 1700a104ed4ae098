/// What identifies the data a run trained on: the file's path as given, the number of transitions loaded and a
/// 64-bit hash of the loaded columns. A run folder records it (`TrainingOptions.dataset`, `.synthetic`) so that
/// `stitch train --resume` can refuse a different file instead of silently training on other data.
///
/// The hash is of the loaded columns, not of the file's bytes: it identifies what training sees (after the
/// Q-learning view, the episode fix-ups and any dropped non-finite rows), it does not change when the same columns
/// are rewritten with other HDF5 chunking or compression or in the other layout (D4RL, Minari), and it
/// costs one pass over memory already loaded instead of a second read of the file. The mix is xxHash64's round (Collet, xxHash specification: multiply by prime 2, rotate 31,
/// multiply by prime 1) over every 32-bit word of the columns in a fixed order: widths, observations, actions,
/// rewards, next observations, then terminals and timeouts as bits. It guards against mistakes, not adversaries.
public struct DatasetIdentity: Codable, Sendable, Equatable, CustomStringConvertible {
  /// The path the file was loaded from (as given on the command line).
  public var path: String
  /// Transitions loaded.
  public var rows: Int
  /// The columns' hash, 16 hexadecimal digits.
  public var hash: String

  public init(path: String, rows: Int, hash: String) {
    self.path = path
    self.rows = rows
    self.hash = hash
  }

  /// The identity of `dataset` as loaded from `path`.
  public init(_ dataset: Dataset, path: String) {
    self.path = path
    rows = dataset.count
    let value = Self.hash(dataset)
    hash = String(repeating: "0", count: 16 - String(value, radix: 16).count) + String(value, radix: 16)
  }

  /// Whether two identities name the same data (the path may differ: a file moved or copied is the same data).
  public func sameData(as other: DatasetIdentity) -> Bool { rows == other.rows && hash == other.hash }

  public var description: String { "\(path) (\(rows) transitions, hash \(hash))" }

  static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
  static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F

  @inline(__always) static func round(_ h: UInt64, _ word: UInt64) -> UInt64 {
    let x = h &+ word &* prime2
    return ((x << 31) | (x >> 33)) &* prime1
  }

  /// The 64-bit hash of the dataset's columns (see the type's comment).
  public static func hash(_ ds: Dataset) -> UInt64 {
    var h: UInt64 = 0x2754_7F4E_D1C3_6A05
    h = round(h, UInt64(ds.observationDim))
    h = round(h, UInt64(ds.actionDim))
    h = round(h, UInt64(ds.count))
    for column in [ds.observations, ds.actions, ds.rewards, ds.nextObservations] {
      column.withUnsafeBufferPointer { p in
        for x in p { h = round(h, UInt64(x.bitPattern)) }
      }
    }
    for flags in [ds.terminals, ds.timeouts] {
      var word: UInt64 = 0
      for (i, flag) in flags.enumerated() {
        if flag { word |= 1 << UInt64(i & 63) }
        if i & 63 == 63 { h = round(h, word); word = 0 }
      }
      h = round(h, word)
    }
    // xxHash64's avalanche, so that nearby inputs give unrelated digests.
    h ^= h >> 33; h &*= prime2; h ^= h >> 29; h &*= 0x1656_67B1_9E37_79F9; h ^= h >> 32
    return h
  }
}

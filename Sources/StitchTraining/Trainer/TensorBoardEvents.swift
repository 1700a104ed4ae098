import Foundation

/// TensorBoard event files for a run folder, so that `tensorboard --logdir runs/` shows every run's metrics.
///
/// Format (TensorFlow's `tensorflow/core/util/event.proto`, `summary.proto`; TensorBoard's
/// `tensorboard/summary/writer/record_writer.py`): a sequence of TFRecords, each a little-endian UInt64 length, the
/// masked CRC32C of those 8 bytes, the data, and the masked CRC32C of the data (mask: rotate right by 15, add
/// 0xa282ead8); each record one serialized `Event` protobuf. The first event carries `file_version =
/// "brain.Event:2"`; each metric is one event `{wall_time, step, summary {value {tag, simple_value}}}`, as
/// `SummaryWriter.add_scalar` writes it; a resumed run writes `{wall_time, step, session_log {status: START}}` at
/// the first step after its checkpoint, which tells TensorBoard to drop the earlier file's events from that step on
/// (its `EventAccumulator` purges steps ≥ the marker's: the part of the run the checkpoint did not keep, exactly
/// the rows `metrics.jsonl` drops; checked with TensorBoard 2.21 on a resumed run). Checked byte for byte against a file written by TensorBoard's own
/// `RecordWriter` and protobuf classes (scripts/fixtures/make_tensorboard_fixture.py).
public final class TensorBoardEvents {
  public let url: URL
  let handle: FileHandle

  /// Creates `folder/events.out.tfevents.<seconds>.<host>.<pid>.stitch` (TensorBoard reads every file whose name
  /// holds "tfevents") and writes the file-version event; with `restartStep`, also the restart marker.
  public init(folder: URL, restartStep: Int? = nil, wallTime: Double = Date().timeIntervalSince1970) throws {
    let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "_")
    url = folder.appendingPathComponent("events.out.tfevents.\(Int(wallTime)).\(host).\(getpid()).stitch")
    guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
      throw RunFolderError("cannot create the TensorBoard event file \(url.path)")
    }
    handle = try FileHandle(forWritingTo: url)
    try write(Self.versionEvent(wallTime: wallTime))
    if let restartStep { try write(Self.restartEvent(wallTime: wallTime, step: restartStep)) }
  }

  deinit { try? handle.close() }

  /// One scalar event per finite value, tags in sorted order.
  public func scalars(step: Int, _ values: [String: Double], wallTime: Double = Date().timeIntervalSince1970) throws {
    var data = Data()
    for tag in values.keys.sorted() {
      guard let v = values[tag], v.isFinite else { continue }
      data.append(Self.record(Self.scalarEvent(wallTime: wallTime, step: step, tag: tag, value: Float(v))))
    }
    try handle.write(contentsOf: data)
  }

  func write(_ event: Data) throws { try handle.write(contentsOf: Self.record(event)) }

  // MARK: - Encoding

  static func versionEvent(wallTime: Double) -> Data {
    var e = Protobuf()
    e.double(1, wallTime)
    e.bytes(3, Data("brain.Event:2".utf8))
    return e.data
  }

  static func scalarEvent(wallTime: Double, step: Int, tag: String, value: Float) -> Data {
    var v = Protobuf()
    v.bytes(1, Data(tag.utf8))
    v.float(2, value)
    var s = Protobuf()
    s.bytes(1, v.data)
    var e = Protobuf()
    e.double(1, wallTime)
    e.varint(2, UInt64(bitPattern: Int64(step)))
    e.bytes(5, s.data)
    return e.data
  }

  static func restartEvent(wallTime: Double, step: Int) -> Data {
    var log = Protobuf()
    log.varint(1, 1)  // SessionLog.START
    var e = Protobuf()
    e.double(1, wallTime)
    e.varint(2, UInt64(bitPattern: Int64(step)))
    e.bytes(7, log.data)
    return e.data
  }

  /// One TFRecord around `data`.
  static func record(_ data: Data) -> Data {
    var length = UInt64(data.count).littleEndian
    let lengthBytes = withUnsafeBytes(of: &length) { Data($0) }
    var out = lengthBytes
    out.append(littleEndian: CRC32C.masked(lengthBytes))
    out.append(data)
    out.append(littleEndian: CRC32C.masked(data))
    return out
  }

  // MARK: - Decoding (for tests and for checking files)

  /// An event as far as Stitch writes them.
  public struct Event: Equatable, Sendable {
    public var wallTime: Double = 0
    public var step: Int = 0
    public var fileVersion: String? = nil
    public var scalars: [String: Float] = [:]
    public var sessionStart = false
  }

  /// Reads every record of a TFRecord file, checking both CRCs, and decodes its events; throws on a malformed
  /// file, naming the record.
  public static func read(_ data: Data) throws -> [Event] {
    var events: [Event] = []
    var i = data.startIndex
    func fail(_ why: String) -> RunFolderError { RunFolderError("TensorBoard event file, record \(events.count + 1): \(why)") }
    func u32(_ at: Int) -> UInt32 { data[at..<(at + 4)].enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) } }
    while i < data.endIndex {
      guard data.endIndex - i >= 12 else { throw fail("truncated header") }
      let lengthBytes = data[i..<(i + 8)]
      let length = lengthBytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
      guard u32(i + 8) == CRC32C.masked(Data(lengthBytes)) else { throw fail("length CRC mismatch") }
      let start = i + 12
      guard length <= UInt64(data.endIndex - start - 4) else { throw fail("truncated data") }
      let end = start + Int(length)
      let payload = Data(data[start..<end])
      guard u32(end) == CRC32C.masked(payload) else { throw fail("data CRC mismatch") }
      events.append(try decodeEvent(payload))
      i = end + 4
    }
    return events
  }

  static func decodeEvent(_ data: Data) throws -> Event {
    var e = Event()
    for field in try Protobuf.fields(data) {
      switch (field.number, field.value) {
      case (1, .fixed64(let bits)): e.wallTime = Double(bitPattern: bits)
      case (2, .varint(let v)): e.step = Int(Int64(bitPattern: v))
      case (3, .bytes(let b)): e.fileVersion = String(decoding: b, as: UTF8.self)
      case (5, .bytes(let summary)):
        for value in try Protobuf.fields(summary) where value.number == 1 {
          guard case .bytes(let v) = value.value else { continue }
          var tag = "", simple: Float? = nil
          for f in try Protobuf.fields(v) {
            if f.number == 1, case .bytes(let t) = f.value { tag = String(decoding: t, as: UTF8.self) }
            if f.number == 2, case .fixed32(let bits) = f.value { simple = Float(bitPattern: bits) }
          }
          if let simple { e.scalars[tag] = simple }
        }
      case (7, .bytes(let log)):
        e.sessionStart = try Protobuf.fields(log).contains { $0.number == 1 && $0.value == .varint(1) }
      default: continue
      }
    }
    return e
  }
}

/// The protobuf wire format, as far as event files need it.
struct Protobuf {
  var data = Data()

  mutating func key(_ field: Int, _ wireType: UInt64) { appendVarint(UInt64(field) << 3 | wireType) }
  mutating func appendVarint(_ value: UInt64) {
    var v = value
    while v >= 0x80 { data.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
    data.append(UInt8(v))
  }
  mutating func varint(_ field: Int, _ value: UInt64) { key(field, 0); appendVarint(value) }
  mutating func double(_ field: Int, _ value: Double) { key(field, 1); data.append(littleEndian: value.bitPattern) }
  mutating func float(_ field: Int, _ value: Float) { key(field, 5); data.append(littleEndian: value.bitPattern) }
  mutating func bytes(_ field: Int, _ value: Data) { key(field, 2); appendVarint(UInt64(value.count)); data.append(value) }

  enum Value: Equatable { case varint(UInt64), fixed64(UInt64), fixed32(UInt32), bytes(Data) }

  /// The top-level fields of a message, in order.
  static func fields(_ data: Data) throws -> [(number: Int, value: Value)] {
    var out: [(Int, Value)] = []
    var i = data.startIndex
    func varint() throws -> UInt64 {
      var v: UInt64 = 0, shift: UInt64 = 0
      while true {
        guard i < data.endIndex, shift < 64 else { throw RunFolderError("protobuf: truncated or overlong varint") }
        let b = data[i]; i += 1
        v |= UInt64(b & 0x7f) << shift
        if b < 0x80 { return v }
        shift += 7
      }
    }
    func take(_ n: Int) throws -> Data {
      guard n >= 0, data.endIndex - i >= n else { throw RunFolderError("protobuf: truncated field") }
      defer { i += n }
      return Data(data[i..<(i + n)])
    }
    while i < data.endIndex {
      let key = try varint()
      let number = Int(key >> 3)
      switch key & 7 {
      case 0: out.append((number, .varint(try varint())))
      case 1: out.append((number, .fixed64(try take(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })))
      case 2: out.append((number, .bytes(try take(Int(try varint())))))
      case 5: out.append((number, .fixed32(try take(4).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) })))
      default: throw RunFolderError("protobuf: unsupported wire type \(key & 7)")
      }
    }
    return out
  }
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord frames use it.
enum CRC32C {
  static let table: [UInt32] = (0..<256).map { n in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
    return c
  }

  static func checksum(_ data: Data) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in data { c = table[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
  }

  /// TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
  static func masked(_ data: Data) -> UInt32 {
    let c = checksum(data)
    return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
  }
}

extension Data {
  mutating func append<T: FixedWidthInteger>(littleEndian value: T) {
    var v = value.littleEndian
    Swift.withUnsafeBytes(of: &v) { append(contentsOf: $0) }
  }
}

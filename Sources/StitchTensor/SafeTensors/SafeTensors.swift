import Foundation

/// Reading and writing the safetensors format (Hugging Face, https://github.com/huggingface/safetensors, README
/// "Format"): an 8-byte little-endian header size N, N bytes of UTF-8 JSON mapping each tensor name to
/// `{"dtype", "shape", "data_offsets": [begin, end]}` (plus an optional `"__metadata__"` string map), then the
/// raw little-endian tensor bytes. PyTorch (`safetensors.torch.load_file`), JAX/Flax and NumPy users load these
/// files directly.
///
/// Stitch writes F32 tensors with names sorted, offsets contiguous in that order, and the header padded with
/// spaces to a multiple of 8 bytes (as the reference writer does). It reads F32, F64, F16, BF16, I64, I32, I8,
/// U8 and BOOL, converting to Float32, and refuses anything malformed with an error naming the problem.
public enum SafeTensors {
  /// A problem with a safetensors file.
  public enum FormatError: Error, CustomStringConvertible, Equatable {
    case truncated(String)
    case badHeader(String)
    case badTensor(name: String, reason: String)
    case io(String)

    public var description: String {
      switch self {
      case .truncated(let s): return "safetensors file is truncated: \(s)"
      case .badHeader(let s): return "safetensors header is invalid: \(s)"
      case .badTensor(let name, let reason): return "safetensors tensor '\(name)': \(reason)"
      case .io(let s): return s
      }
    }
  }

  static let elementSizes: [String: Int] = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I8": 1, "U8": 1, "BOOL": 1]

  /// Encodes named tensors (and string metadata) as safetensors bytes.
  public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
    var header: [String: Any] = [:]
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var offset = 0
    let names = tensors.keys.sorted()
    for name in names {
      guard name != "__metadata__" else { throw FormatError.badTensor(name: name, reason: "reserved name") }
      let t = tensors[name]!
      header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]] as [String: Any]
      offset += 4 * t.count
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    while json.count % 8 != 0 { json.append(0x20) }
    var data = Data(capacity: 8 + json.count + offset)
    var n = UInt64(json.count).littleEndian
    withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
    data.append(json)
    for name in names {
      tensors[name]!.withUnsafeBufferPointer { p in
        // Float32 is little-endian on every platform Stitch runs on (x86-64, arm64).
        data.append(UnsafeBufferPointer(start: UnsafeRawPointer(p.baseAddress)?.assumingMemoryBound(to: UInt8.self), count: p.count * 4))
      }
    }
    return data
  }

  /// Decodes safetensors bytes into named Float32 tensors and the metadata map.
  public static func decode(_ data: Data) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
    guard data.count >= 8 else { throw FormatError.truncated("\(data.count) bytes, fewer than the 8-byte header size") }
    let headerSize = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    guard headerSize <= UInt64(data.count - 8) else {
      throw FormatError.truncated("header claims \(headerSize) bytes but only \(data.count - 8) follow")
    }
    let headerData = data.subdata(in: 8..<(8 + Int(headerSize)))
    guard let object = try? JSONSerialization.jsonObject(with: headerData), let header = object as? [String: Any] else {
      throw FormatError.badHeader("not a JSON object")
    }
    let body = data.subdata(in: (8 + Int(headerSize))..<data.count)
    var metadata: [String: String] = [:]
    if let meta = header["__metadata__"] {
      guard let m = meta as? [String: String] else { throw FormatError.badHeader("__metadata__ must map strings to strings") }
      metadata = m
    }
    var tensors: [String: Tensor] = [:]
    var ranges: [(Int, Int, String)] = []
    for (name, value) in header where name != "__metadata__" {
      guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
            let shape = (info["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
            let offsets = (info["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }), offsets.count == 2 else {
        throw FormatError.badTensor(name: name, reason: "entry needs dtype, shape and two data_offsets")
      }
      guard let size = elementSizes[dtype] else { throw FormatError.badTensor(name: name, reason: "unsupported dtype \(dtype)") }
      guard shape.allSatisfy({ $0 >= 0 }) else { throw FormatError.badTensor(name: name, reason: "negative dimension in \(shape)") }
      let (begin, end) = (offsets[0], offsets[1])
      guard begin >= 0, end >= begin, end <= body.count else {
        throw FormatError.badTensor(name: name, reason: "data_offsets [\(begin), \(end)] lie outside the \(body.count) data bytes")
      }
      // A product that overflows (shape [2^62, 4]) would trap; no such tensor fits in memory anyway.
      let count = try shape.reduce(1) { product, n in
        let (next, overflow) = product.multipliedReportingOverflow(by: n)
        guard !overflow, !next.multipliedReportingOverflow(by: size).overflow else {
          throw FormatError.badTensor(name: name, reason: "shape \(shape) has too many elements")
        }
        return next
      }
      guard end - begin == count * size else {
        throw FormatError.badTensor(name: name, reason: "shape \(shape) of \(dtype) needs \(count * size) bytes, offsets give \(end - begin)")
      }
      ranges.append((begin, end, name))
      tensors[name] = body.withUnsafeBytes { raw in convert(raw, from: begin, count: count, dtype: dtype, shape: shape) }
    }
    ranges.sort { $0.0 < $1.0 }
    ranges.removeAll { $0.0 == $0.1 }  // empty tensors occupy no bytes
    for i in ranges.indices.dropFirst() where ranges[i].0 < ranges[i - 1].1 {
      throw FormatError.badTensor(name: ranges[i].2, reason: "data overlaps tensor '\(ranges[i - 1].2)'")
    }
    return (tensors, metadata)
  }

  static func convert(_ raw: UnsafeRawBufferPointer, from begin: Int, count: Int, dtype: String, shape: [Int]) -> Tensor {
    var t = Tensor.zeros(shape)
    t.withUnsafeMutableBufferPointer { out in
      for i in 0..<count {
        let at = begin + i * (elementSizes[dtype] ?? 4)
        switch dtype {
        case "F32": out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        case "F64": out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
        case "F16": out[i] = Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self))))
        case "BF16": out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self))) << 16)
        case "I64": out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self)))
        case "I32": out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int32.self)))
        case "I8": out[i] = Float(raw.load(fromByteOffset: at, as: Int8.self))
        default: out[i] = Float(raw.load(fromByteOffset: at, as: UInt8.self))  // U8, BOOL
        }
      }
    }
    return t
  }

  /// Writes a safetensors file atomically (temporary file in the same folder, then rename).
  public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
    let data = try encode(tensors, metadata: metadata)
    do { try AtomicFile.write(data, to: url) } catch {
      throw FormatError.io("cannot write \(url.path): \(error.localizedDescription)")
    }
  }

  /// Reads a safetensors file.
  public static func read(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw FormatError.io("cannot read \(url.path): no such file or not readable")
    }
    do { return try decode(data) } catch let e as FormatError {
      throw FormatError.io("\(url.path): \(e)")
    }
  }
}

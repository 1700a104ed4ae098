import CDeflate
import CHDF5
import Dispatch

import Foundation

/// Parallel reading of gzip-compressed, chunked HDF5 datasets.
///
/// D4RL's files (and Stitch's own) store each column in gzip-filtered chunks, and most of a load is inflating
/// them: HDF5 does it with zlib on one core, and Debian's HDF5 is not thread-safe, so it cannot be asked to read
/// several chunks at once. Here the compressed bytes of every chunk are fetched serially with `H5Dread_chunk`
/// (no filter applied: plain I/O), then inflated with libdeflate and converted to Float32 on all cores, each
/// chunk into its own region of the output. The values are exactly what `H5Dread` into native float gives (an
/// IEEE round-to-nearest conversion for float64, exact for the rest; `ChunkedReadTests` compares them).
///
/// It applies to rank 1 and 2 datasets of little-endian float32/float64, 1-byte integers and 1-byte enums (h5py's
/// bools), whose filter pipeline is deflate, optionally after shuffle, with every chunk written and none with a
/// skipped filter. For anything else `readFloatsByChunks` returns nil and the caller reads through HDF5 as before.
extension HDF5File {
  enum ChunkElement {
    case float32, float64, int8, uint8, boolean

    var size: Int {
      switch self {
      case .float32: return 4
      case .float64: return 8
      case .int8, .uint8, .boolean: return 1
      }
    }
  }

  /// The dataset `d` (shape `shape`, file type `type`) as Float32, or nil when the fast path does not apply.
  /// - Throws: `HDF5Error.readFailed` when a chunk cannot be fetched or does not inflate (a corrupt file).
  func readFloatsByChunks(_ d: hid_t, key: String, shape: [Int], type: hid_t) throws -> [Float]? {
    let rank = shape.count
    guard rank == 1 || rank == 2, shape.allSatisfy({ $0 > 0 }) else { return nil }
    let dcpl = H5Dget_create_plist(d)
    guard dcpl >= 0 else { return nil }
    defer { H5Pclose(dcpl) }
    guard H5Pget_layout(dcpl) == H5D_CHUNKED else { return nil }
    var chunkDims = [hsize_t](repeating: 0, count: rank)
    guard H5Pget_chunk(dcpl, Int32(rank), &chunkDims) == rank, chunkDims.allSatisfy({ $0 > 0 }) else { return nil }
    // Filters, in the order applied when writing: [shuffle,] deflate.
    let filterCount = Int(H5Pget_nfilters(dcpl))
    var shuffled = false, deflated = false
    for i in 0..<filterCount {
      var flags: UInt32 = 0, config: UInt32 = 0
      var elementCount = 8
      var values = [UInt32](repeating: 0, count: 8)
      var name = [CChar](repeating: 0, count: 64)
      let filter = H5Pget_filter2(dcpl, UInt32(i), &flags, &elementCount, &values, 64, &name, &config)
      if filter == H5Z_FILTER_SHUFFLE && i == 0 && filterCount == 2 { shuffled = true }
      else if filter == H5Z_FILTER_DEFLATE && i == filterCount - 1 { deflated = true }
      else { return nil }
    }
    guard deflated else { return nil }
    guard let element = Self.chunkElement(type) else { return nil }

    let space = H5Dget_space(d)
    guard space >= 0 else { return nil }
    defer { H5Sclose(space) }
    var chunkCount: hsize_t = 0
    guard H5Dget_num_chunks(d, space, &chunkCount) >= 0 else { return nil }
    let chunkShape = chunkDims.map { Int($0) }
    var expected = 1
    for (n, c) in zip(shape, chunkShape) { expected *= (n + c - 1) / c }
    guard Int(chunkCount) == expected else { return nil }  // unwritten chunks hold the fill value: let HDF5 do it

    // Serial part: the compressed bytes of every chunk and where it sits.
    var compressed: [[UInt8]] = []
    var origins: [[Int]] = []
    compressed.reserveCapacity(expected)
    for c in 0..<chunkCount {
      var offset = [hsize_t](repeating: 0, count: rank)
      var mask: UInt32 = 0
      var address: haddr_t = 0
      var size: hsize_t = 0
      guard H5Dget_chunk_info(d, space, c, &offset, &mask, &address, &size) >= 0 else {
        throw HDF5Error.readFailed(file: path, key: key)
      }
      guard mask == 0 else { return nil }  // a filter was skipped for this chunk: HDF5 knows how to undo that
      var bytes = [UInt8](repeating: 0, count: Int(size))
      var filters: UInt32 = 0
      let status = bytes.withUnsafeMutableBytes { H5Dread_chunk(d, stitch_H5P_DEFAULT(), offset, &filters, $0.baseAddress) }
      guard status >= 0 else { throw HDF5Error.readFailed(file: path, key: key) }
      compressed.append(bytes)
      origins.append(offset.map { Int($0) })
    }

    // Parallel part: inflate, unshuffle, convert into place.
    let total = shape.reduce(1, *)
    let chunkElements = chunkShape.reduce(1, *)
    let chunkBytes = chunkElements * element.size
    let columns = rank == 2 ? shape[1] : 1
    let chunkColumns = rank == 2 ? chunkShape[1] : 1
    let chunks = compressed, starts = origins, isShuffled = shuffled
    // One worker per core, each with one decompressor and one reused chunk buffer (a fresh 256 KB buffer per chunk
    // would be a fresh mmap and a page-fault storm), over an interleaved share of the chunks.
    let workers = Swift.max(1, Swift.min(ProcessInfo.processInfo.activeProcessorCount, chunks.count))
    var failed = false
    // Every element is written by exactly one chunk (the chunk count was checked above), so no zero-fill first.
    let values = [Float](unsafeUninitializedCapacity: total) { buffer, initialized in
      let output = ChunkOutput(buffer.baseAddress!)
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        guard let decompressor = libdeflate_alloc_decompressor() else { output.fail(); return }
        defer { libdeflate_free_decompressor(decompressor) }
        var plain = [UInt8](repeating: 0, count: chunkBytes)
        var shuffleBuffer = isShuffled ? [UInt8](repeating: 0, count: chunkBytes) : []
        for c in stride(from: w, to: chunks.count, by: workers) {
          var produced = 0
          let result = chunks[c].withUnsafeBytes { src in
            plain.withUnsafeMutableBytes { dst in
              libdeflate_zlib_decompress(decompressor, src.baseAddress, src.count, dst.baseAddress, chunkBytes, &produced)
            }
          }
          guard result == LIBDEFLATE_SUCCESS, produced == chunkBytes else { output.fail(); return }
          if isShuffled && element.size > 1 {
            Self.unshuffle(plain, into: &shuffleBuffer, elementSize: element.size)
            swap(&plain, &shuffleBuffer)
          }
          let origin = starts[c]
          let rows = Swift.min(chunkShape[0], shape[0] - origin[0])
          let cols = rank == 2 ? Swift.min(chunkColumns, columns - origin[1]) : 1
          let firstColumn = rank == 2 ? origin[1] : 0
          plain.withUnsafeBytes { src in
            for r in 0..<rows {
              let target = output.base + (origin[0] + r) * columns + firstColumn
              Self.convert(src.baseAddress! + r * chunkColumns * element.size, element, cols, into: target)
            }
          }
        }
      }
      failed = output.failed
      if failed { buffer.baseAddress!.initialize(repeating: 0, count: total) }
      initialized = total
    }
    guard !failed else { throw HDF5Error.readFailed(file: path, key: key) }
    return values
  }

  /// The fast path's element kinds: little-endian IEEE floats of 4 or 8 bytes, 1-byte integers and enums.
  static func chunkElement(_ type: hid_t) -> ChunkElement? {
    let size = H5Tget_size(type)
    switch H5Tget_class(type) {
    case H5T_FLOAT:
      guard H5Tget_order(type) == H5T_ORDER_LE else { return nil }
      if size == 4, H5Tequal(type, stitch_H5T_IEEE_F32LE()) > 0 { return .float32 }
      if size == 8, H5Tequal(type, stitch_H5T_IEEE_F64LE()) > 0 { return .float64 }
      return nil
    case H5T_INTEGER:
      guard size == 1 else { return nil }
      return H5Tget_sign(type) == H5T_SGN_NONE ? .uint8 : .int8
    case H5T_ENUM:
      return size == 1 ? .boolean : nil
    default:
      return nil
    }
  }

  /// HDF5's shuffle filter stores byte k of every element together; this puts each element's bytes back.
  static func unshuffle(_ bytes: [UInt8], into out: inout [UInt8], elementSize k: Int) {
    let n = bytes.count / k
    bytes.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for b in 0..<k {
          for i in 0..<n { dst[i * k + b] = src[b * n + i] }
        }
      }
    }
  }

  /// Converts `count` elements at `source` to Float32 at `target` (bools: nonzero → 1, as `readFloats`).
  static func convert(_ source: UnsafeRawPointer, _ element: ChunkElement, _ count: Int, into target: UnsafeMutablePointer<Float>) {
    switch element {
    case .float32:
      for i in 0..<count { target[i] = source.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
    case .float64:
      for i in 0..<count { target[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
    case .int8:
      for i in 0..<count { target[i] = Float(source.load(fromByteOffset: i, as: Int8.self)) }
    case .uint8:
      for i in 0..<count { target[i] = Float(source.load(fromByteOffset: i, as: UInt8.self)) }
    case .boolean:
      for i in 0..<count { target[i] = source.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
    }
  }
}

/// The output of a parallel chunked read: a buffer (owned by the caller, alive for the whole parallel loop) that
/// workers fill in disjoint regions, and a failure count.
final class ChunkOutput: @unchecked Sendable {
  let base: UnsafeMutablePointer<Float>
  private var failures = 0
  private let lock = DispatchQueue(label: "stitch.chunk-output")

  init(_ base: UnsafeMutablePointer<Float>) { self.base = base }

  func fail() { lock.sync { failures += 1 } }
  var failed: Bool { lock.sync { failures > 0 } }
}

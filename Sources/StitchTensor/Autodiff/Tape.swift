#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Identifies a value recorded on a tape: the tape's generation and the node's index.
public struct TapeNodeID: Hashable, Sendable {
  let generation: UInt32
  let index: Int32
}

/// The record of one forward pass, replayed backwards to compute gradients (reverse-mode autodiff).
///
/// A tape is active on one thread while `valueWithGradient(at:_:)` runs its closure. Each operation whose inputs
/// include a recorded value appends a node holding its backward function: given the gradient of the loss with
/// respect to the operation's output, it returns the gradients with respect to each input that needs one.
/// Operations whose inputs are all unrecorded (data, targets, detached values) record nothing.
///
/// Errors: an operation given tensors of incompatible shapes does not trap while a tape is active. It records
/// the first such error (naming the operation and the shapes) and returns zeros of a plausible shape; the
/// enclosing `valueWithGradient` then throws `TensorError.shapeMismatch`. Outside a tape, inference code runs its
/// forward passes in `checkingShapes`, which throws the same error; only outside both does it stop the program.
public final class Tape {
  struct Node {
    var inputs: [TapeNodeID?]
    var backward: ((Tensor, [Bool]) -> [Tensor?])?
  }

  var nodes: [Node] = []
  let generation: UInt32
  var firstError: String?
  nonisolated(unsafe) static var generations: UInt32 = 0
  static let lock = NSLockLite()

  init() {
    Tape.lock.lock()
    Tape.generations &+= 1
    generation = Tape.generations
    Tape.lock.unlock()
  }

  // MARK: Thread-local current tape

  static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  /// The tape recording on this thread, if any.
  @inline(__always) static var current: Tape? {
    guard let p = pthread_getspecific(key) else { return nil }
    return Unmanaged<Tape>.fromOpaque(p).takeUnretainedValue()
  }

  static func setCurrent(_ tape: Tape?) {
    pthread_setspecific(key, tape.map { Unmanaged.passUnretained($0).toOpaque() })
  }

  /// Runs `body` with no tape recording (used by backward passes and `withoutGradients`).
  static func suspended<R>(_ body: () throws -> R) rethrows -> R {
    let saved = current
    setCurrent(nil)
    defer { setCurrent(saved) }
    return try body()
  }

  // MARK: Recording

  /// Marks `tensor` as a leaf (a parameter) of this tape.
  func leaf(_ tensor: inout Tensor) {
    tensor.node = TapeNodeID(generation: generation, index: Int32(nodes.count))
    nodes.append(Node(inputs: [], backward: nil))
  }

  @inline(__always) func owns(_ id: TapeNodeID?) -> Bool { id?.generation == generation }

  /// Records `output` as computed from `inputs` with the given backward function, when a tape is active and some
  /// input is recorded on it; otherwise returns `output` unchanged.
  @inline(__always)
  static func record(_ output: Tensor, _ inputs: [Tensor], _ backward: @escaping (Tensor, [Bool]) -> [Tensor?]) -> Tensor {
    guard let tape = current else { return output }
    var any = false
    for t in inputs where tape.owns(t.node) { any = true; break }
    guard any else { return output }
    var out = output
    out.node = TapeNodeID(generation: tape.generation, index: Int32(tape.nodes.count))
    tape.nodes.append(Node(inputs: inputs.map { tape.owns($0.node) ? $0.node : nil }, backward: backward))
    return out
  }

  /// Reports a shape error: recorded on the active tape, or else in the innermost `checkingShapes` scope of this
  /// thread (and zeros of `shape` returned either way); fatal only outside both, where no caller could be told.
  static func fail(_ message: String, shape: [Int]) -> Tensor {
    if let tape = current {
      if tape.firstError == nil { tape.firstError = message }
    } else if let scope = ShapeCheckScope.current {
      if scope.firstError == nil { scope.firstError = message }
    } else {
      fatalError("Stitch tensor error: \(message)")
    }
    return Tensor.zeros(shape)
  }

  /// Whether a tape is recording on this thread.
  public static var isRecording: Bool { current != nil }

  // MARK: Backward pass

  /// The gradient of `loss` (summed over its elements) with respect to every node, by reverse accumulation.
  func gradients(of loss: Tensor) -> [Tensor?] {
    var grads = [Tensor?](repeating: nil, count: nodes.count)
    guard let root = loss.node, owns(root) else { return grads }
    grads[Int(root.index)] = Tensor(repeating: 1, shape: loss.shape)
    Tape.suspended {
      for i in stride(from: Int(root.index), through: 0, by: -1) {
        guard let g = grads[i], let backward = nodes[i].backward else { continue }
        let inputs = nodes[i].inputs
        let inputGrads = backward(g, inputs.map { $0 != nil })
        for (j, id) in inputs.enumerated() {
          guard let id, j < inputGrads.count, let gj = inputGrads[j] else { continue }
          let k = Int(id.index)
          if var existing = grads[k] {
            grads[k] = nil
            existing.addInPlace(gj)
            grads[k] = existing
          } else {
            grads[k] = gj
          }
        }
        grads[i] = nil
        nodes[i].backward = nil  // free captured buffers early
      }
    }
    return grads
  }
}

/// A minimal mutex (pthread) so StitchTensor needs no Foundation on its hot paths.
final class NSLockLite: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  init() { pthread_mutex_init(&mutex, nil) }
  deinit { pthread_mutex_destroy(&mutex) }
  func lock() { pthread_mutex_lock(&mutex) }
  func unlock() { pthread_mutex_unlock(&mutex) }
}

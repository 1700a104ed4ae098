import StitchTensor

/// A fixed-capacity ring buffer of transitions for online data: when full, the oldest transition is overwritten.
public struct ReplayBuffer: Sendable {
  public let capacity: Int
  public private(set) var storage: Dataset
  /// The next slot to write.
  public private(set) var cursor = 0
  /// Transitions added in total (may exceed capacity).
  public private(set) var added = 0

  public init(capacity: Int, observationDim: Int, actionDim: Int) {
    precondition(capacity > 0, "a replay buffer needs a positive capacity")
    self.capacity = capacity
    storage = Dataset(observationDim: observationDim, actionDim: actionDim)
  }

  /// A buffer holding `storage` as its slots (as saved in a checkpoint), with the given write cursor and count.
  /// - Throws: `DatasetError.invalid` when the parts disagree (a damaged or foreign checkpoint).
  public init(capacity: Int, storage: Dataset, cursor: Int, added: Int) throws {
    let problem: String?
    if capacity <= 0 { problem = "capacity \(capacity) is not positive" }
    else if storage.count != Swift.min(added, capacity) { problem = "holds \(storage.count) transitions but \(added) were added to a buffer of capacity \(capacity)" }
    else if !(0..<capacity).contains(cursor) || cursor != added % capacity { problem = "cursor \(cursor) does not follow from \(added) additions" }
    else { problem = storage.invariantViolations().first }
    if let problem { throw DatasetError.invalid(file: "replay buffer", problem: problem) }
    self.capacity = capacity
    self.storage = storage
    self.cursor = cursor
    self.added = added
  }

  /// Checks that the buffer's last `steps` transitions can be the unfinished episode a checkpoint says it was in
  /// (`episode_steps`), so that resuming can re-enter it by replaying their actions: 0 ≤ steps ≤ the transitions
  /// held, none of them ends an episode (terminal or timeout), each starts where the one before ended
  /// (observation = previous next observation), and the transition before them, when held, ends an episode.
  /// - Parameter source: the file the count came from, named in the error with the field.
  /// - Throws: `DatasetError.invalid(file: source, ...)` naming `episode_steps` and what does not hold.
  public func checkUnfinishedEpisode(steps: Int, source: String) throws {
    func fail(_ problem: String) -> DatasetError { .invalid(file: source, problem: "episode_steps = \(steps): \(problem)") }
    guard steps >= 0 else { throw fail("a step count cannot be negative") }
    guard steps <= count else { throw fail("the replay buffer holds only \(count) transitions (capacity \(capacity))") }
    let slots = lastSlots(steps), od = storage.observationDim
    for (k, slot) in slots.enumerated() {
      if storage.terminals[slot] || storage.timeouts[slot] {
        throw fail("transition \(k + 1) of the unfinished episode (buffer slot \(slot)) ends an episode")
      }
      if k > 0 {
        let previous = slots[k - 1]
        if storage.observations[(slot * od)..<((slot + 1) * od)] != storage.nextObservations[(previous * od)..<((previous + 1) * od)] {
          throw fail("transition \(k + 1) of the unfinished episode (buffer slot \(slot)) does not start where transition \(k) ended")
        }
      }
    }
    if steps < count {
      let before = ((cursor - steps - 1) % capacity + capacity) % capacity
      if !storage.terminals[before] && !storage.timeouts[before] {
        throw fail("the transition before them (buffer slot \(before)) does not end an episode, so the episode is longer")
      }
    }
  }

  /// Slot indices of the last `k` transitions added, oldest first.
  public func lastSlots(_ k: Int) -> [Int] {
    precondition(k <= count, "only \(count) transitions are held")
    return (0..<k).map { ((cursor - k + $0) % capacity + capacity) % capacity }
  }

  /// The number of transitions held.
  public var count: Int { Swift.min(added, capacity) }

  /// Adds one transition (overwriting the oldest when full).
  public mutating func add(observation: [Float], action: [Float], reward: Float, nextObservation: [Float], terminal: Bool, timeout: Bool = false) {
    let od = storage.observationDim, ad = storage.actionDim
    let i0 = cursor
    if storage.count < capacity {
      storage.append(observation: observation, action: action, reward: reward, nextObservation: nextObservation, terminal: terminal, timeout: timeout)
    } else {
      let i = cursor
      for j in 0..<od { storage.observations[i * od + j] = observation[j]; storage.nextObservations[i * od + j] = nextObservation[j] }
      for j in 0..<ad { storage.actions[i * ad + j] = action[j] }
      storage.rewards[i] = reward
      storage.terminals[i] = terminal
      storage.timeouts[i] = timeout
    }
    if storage.returnsToGo != nil {
      if storage.returnsToGo!.count < storage.count { storage.returnsToGo!.append(-.infinity) } else { storage.returnsToGo![i0] = -.infinity }
    }
    cursor = (cursor + 1) % capacity
    added += 1
  }

  /// Starts keeping per-row returns-to-go (`Dataset.returnsToGo`): rows added from now on hold −∞ (unknown) until
  /// `fillReturnsToGo` writes their episode's returns. Rows already held get −∞ too.
  public mutating func trackReturnsToGo() {
    guard storage.returnsToGo == nil else { return }
    storage.returnsToGo = [Float](repeating: -.infinity, count: storage.count)
  }

  /// Writes the discounted returns-to-go G_t = r_t + γ·G_{t+1} of the episode that ends with the last row added,
  /// `steps` rows long (CORL cal_ql.py `get_return_to_go`, without bootstrapping past the episode's end).
  public mutating func fillReturnsToGo(episodeSteps steps: Int, discount: Float) {
    guard storage.returnsToGo != nil else { return }
    var g: Float = 0
    for slot in lastSlots(Swift.min(steps, count)).reversed() {
      g = storage.rewards[slot] + discount * g * (storage.terminals[slot] ? 0 : 1)
      storage.returnsToGo![slot] = g
    }
  }

  /// Overwrites `rows` of `batch` (all of it by default, `BatchSource`) with transitions drawn uniformly from the
  /// buffer.
  public func sample(into batch: inout Batch, rows: Range<Int>, using rng: inout RandomStream) {
    let n = count
    precondition(n > 0, "cannot sample from an empty replay buffer")
    var indices = [Int](repeating: 0, count: rows.count)
    for k in 0..<rows.count { indices[k] = rng.nextInt(below: n) }
    UniformSampler.gather(storage, indices, into: &batch, offset: rows.lowerBound, od: storage.observationDim, ad: storage.actionDim)
  }
}

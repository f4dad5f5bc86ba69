#include "jobs/inprocess_broker.h"

#include "core/ids.h"

namespace pulse::jobs {

Status InProcessBroker::PushLocked(const std::string& queue, const std::string& envelope) {
  auto& q = queues_[queue];
  if (q.size() >= capacity_)
    return Status::ResourceExhausted("queue '" + queue + "' is full (" + std::to_string(capacity_) + " messages)");
  q.push_front(envelope);  // LPUSH; consumers take from the back (BRPOP): FIFO
  return Status::Ok();
}

Status InProcessBroker::Publish(const std::string& queue, const std::string& envelope) {
  {
    std::lock_guard lock(mu_);
    PULSE_RETURN_IF_ERROR(PushLocked(queue, envelope));
  }
  ready_.notify_one();
  return Status::Ok();
}

Result<std::optional<Delivery>> InProcessBroker::Fetch(const std::vector<std::string>& queues,
                                                       std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (const auto& name : queues) {
      auto it = queues_.find(name);
      if (it == queues_.end() || it->second.empty()) continue;
      Delivery d{std::move(it->second.back()), name, ""};
      it->second.pop_back();
      d.delivery_tag = DeliveryTagOf(d.raw);
      // Malformed, or a tag another delivery holds (a reused envelope): a fresh one, still trackable.
      if (d.delivery_tag.empty() || unacked_.count(d.delivery_tag) > 0) d.delivery_tag = NewUuid();
      unacked_[d.delivery_tag] = {d, std::chrono::steady_clock::now()};
      return std::optional<Delivery>(std::move(d));
    }
    if (ready_.wait_until(lock, deadline) == std::cv_status::timeout) {
      bool any = false;
      for (const auto& name : queues) any = any || (queues_.count(name) && !queues_[name].empty());
      if (!any) return std::optional<Delivery>();
    }
  }
}

Status InProcessBroker::Ack(const Delivery& delivery) {
  std::lock_guard lock(mu_);
  unacked_.erase(delivery.delivery_tag);
  return Status::Ok();
}

Status InProcessBroker::Requeue(const Delivery& delivery) {
  {
    std::lock_guard lock(mu_);
    unacked_.erase(delivery.delivery_tag);
    queues_[delivery.queue].push_front(delivery.raw);  // LPUSH: behind the waiting messages
  }
  ready_.notify_one();
  return Status::Ok();
}

Status InProcessBroker::DeadLetter(const Delivery& delivery, const std::string& reason) {
  std::lock_guard lock(mu_);
  unacked_.erase(delivery.delivery_tag);
  dead_.emplace_back(delivery.raw, reason);
  return Status::Ok();
}

Result<int64_t> InProcessBroker::RestoreVisible(std::chrono::seconds visibility, int max_deaths) {
  int64_t restored = 0;
  {
    std::lock_guard lock(mu_);
    const auto cutoff = std::chrono::steady_clock::now() - visibility;
    for (auto it = unacked_.begin(); it != unacked_.end();) {
      if (it->second.since <= cutoff) {
        RestoreDecision decision = DecideRestore(it->second.delivery.raw, max_deaths);
        if (decision.dead_letter) {
          dead_.emplace_back(it->second.delivery.raw, std::move(decision.value));
        } else {
          queues_[it->second.delivery.queue].push_back(std::move(decision.value));
          ++restored;
        }
        it = unacked_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (restored) ready_.notify_all();
  return restored;
}

Result<int64_t> InProcessBroker::QueueLength(const std::string& queue) {
  std::lock_guard lock(mu_);
  auto it = queues_.find(queue);
  return it == queues_.end() ? 0 : static_cast<int64_t>(it->second.size());
}

Status InProcessBroker::StoreResult(const std::string& task_id, const std::string& meta, std::chrono::seconds) {
  std::lock_guard lock(mu_);
  results_[task_id] = meta;
  return Status::Ok();
}

Result<std::optional<std::string>> InProcessBroker::GetResult(const std::string& task_id) {
  std::lock_guard lock(mu_);
  auto it = results_.find(task_id);
  if (it == results_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status InProcessBroker::Finish(const Delivery& delivery, const std::string& task_id, const std::string& meta,
                               std::chrono::seconds) {
  std::lock_guard lock(mu_);
  results_[task_id] = meta;
  unacked_.erase(delivery.delivery_tag);
  return Status::Ok();
}

Status InProcessBroker::Retry(const Delivery& delivery, const std::string& queue, const std::string& envelope,
                              const std::string& task_id, const std::string& meta, std::chrono::seconds) {
  {
    std::lock_guard lock(mu_);
    PULSE_RETURN_IF_ERROR(PushLocked(queue, envelope));  // a full queue: nothing changes
    results_[task_id] = meta;
    unacked_.erase(delivery.delivery_tag);
  }
  ready_.notify_one();
  return Status::Ok();
}

Result<bool> InProcessBroker::AcquireLease(const std::string& key, const std::string& owner,
                                           std::chrono::milliseconds ttl) {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  auto it = leases_.find(key);
  if (it != leases_.end() && it->second.first != owner && it->second.second > now) return false;
  leases_[key] = {owner, now + ttl};
  return true;
}

Status InProcessBroker::Append(const std::string& list, const std::string& entry) {
  std::lock_guard lock(mu_);
  lists_[list].push_back(entry);
  return Status::Ok();
}

std::vector<std::string> InProcessBroker::List(const std::string& list) const {
  std::lock_guard lock(mu_);
  auto it = lists_.find(list);
  return it == lists_.end() ? std::vector<std::string>() : it->second;
}

std::vector<std::pair<std::string, std::string>> InProcessBroker::DeadLetters() const {
  std::lock_guard lock(mu_);
  return dead_;
}

size_t InProcessBroker::UnackedCount() const {
  std::lock_guard lock(mu_);
  return unacked_.size();
}

}  // namespace pulse::jobs

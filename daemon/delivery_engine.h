#pragma once
// The outbox worker (DESIGN §4): claims due deliveries (at most delivery.per_host per
// host, so a hung host cannot take every slot), has builder threads sign and seal each
// message, sends webhooks and emails through libcurl on the Asio loop, and records every
// attempt (with its audit record) in batches, in the same transaction as the next claim.
// Retries follow RetryPolicy; a delivery left in flight by a crash or stop goes out again
// with the same id.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "alerts/clock.h"
#include "alerts/key_ring.h"
#include "alerts/outbox.h"

namespace boost::asio {
class io_context;
}

namespace hpan::daemon {

struct DeliverySettings {
  int concurrency = 64;
  int per_host = 8;
  std::int64_t timeout_s = 30;
  std::int64_t retry_first_s = 10;
  std::int64_t retry_max_interval_s = 3600;
  std::int64_t give_up_after_s = 72 * 3600;
  std::string smtp_url = "smtp://localhost:25";
  std::string smtp_from = "hpan@localhost";
  bool smtp_starttls_required = true;
  std::string smtp_username;
  std::string smtp_password;
  std::string ca_file;
  bool allow_plain_http_to_loopback = false;
};

class DeliveryEngine {
 public:
  DeliveryEngine(boost::asio::io_context& io, alerts::Outbox& outbox, alerts::KeyRing& keys,
                 const alerts::Clock& clock, DeliverySettings settings, std::function<double()> jitter);
  ~DeliveryEngine();
  DeliveryEngine(const DeliveryEngine&) = delete;
  DeliveryEngine& operator=(const DeliveryEngine&) = delete;

  // Requeues deliveries left in flight and starts sending.
  Status start();
  // New deliveries may be due: look now.
  void poke();
  // Aborts transfers in flight (they return to pending) and records finished ones.
  void stop();
  // New limits, retry policy, SMTP settings (config reload); transfers in flight go on.
  void set_settings(const DeliverySettings& settings);
  std::size_t in_flight() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hpan::daemon

// One TCP connection from the sandbox, from accept to close: intake (transparent original
// destination, HTTP CONNECT / absolute-form request, or SOCKS5), the decision, resolution of an
// allowed name, the dial of exactly the checked address, then the relay. Every decision and the
// close are audit events; every denial answers in the client's protocol (RST, 403, SOCKS 0x02).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "egress/client_filter.h"
#include "egress/event_loop.h"
#include "egress/ip_address.h"
#include "egress/proxy_context.h"
#include "egress/stream_relay.h"

namespace airlock::credentials {
struct HeaderCredential;
}
namespace airlock::intercept {
class CredentialHook;
class InterceptRelay;
}  // namespace airlock::intercept

namespace airlock::egress {

enum class Via { transparent, http_proxy, socks5 };

class TcpSession final : public EventLoop::Handler {
 public:
  TcpSession(ProxyContext& context, uint64_t id, Via via, UniqueFd client,
             const sockaddr_storage& peer);
  ~TcpSession();
  TcpSession(const TcpSession&) = delete;
  TcpSession& operator=(const TcpSession&) = delete;

  void start();
  // The connection limit was reached: refuse in the client's protocol and audit.
  void refuse_over_limit(uint32_t limit);  // transparent: now; others: after their request
  void on_ready(int fd, uint32_t events) override;
  // The proxy is stopping: close now, with the close event.
  void shut_down();

 private:
  enum class Stage { intake, resolving, first_bytes, recording, connecting, relaying, done };

  // Intake
  void read_intake();
  void parse_http_intake();
  void parse_socks_intake();
  void decide_transparent();
  // Decision
  void deny_over_limit();
  void decide_host(const std::string& raw_host, uint16_t port);
  void resolve_and_dial();
  void on_resolved(const Resolution& resolution);
  // Dial and relay
  void await_first_bytes();
  void read_first_bytes();
  void dial_next();
  void on_connected();
  // Credentials: a connection to a credential's host (or a local endpoint, or an mTLS host) is
  // terminated and re-originated by intercept::InterceptRelay; any other readable request is
  // still checked for placeholders (misuse).
  bool should_intercept() const;
  void start_interception(std::string to_client);
  RequestHeadHook* misuse_hook();
  const RelayTotals* relay_totals() const;
  void on_relay_done(const RelayTotals& totals);
  // observe (deny mode): a refused attempt is recorded with what the client sends first
  // (ClientHello SNI, HTTP Host) before it is refused; nothing is dialled.
  void record_then_deny(const std::string& reason, const std::string& rule);
  void read_recording();
  bool record_bytes(std::string_view bytes);  // true once the bytes tell what they are
  void deny_recorded();
  // Ends
  void allow(const std::string& reason, const std::string& rule);
  void deny(const std::string& reason, const std::string& rule = "", int http_status = 403,
            uint8_t socks_code = 2);
  void fail_upstream(const std::string& why);
  void answer_client(const std::string& bytes);
  void close_client(bool reset);
  void finish(const std::string& ended_by);
  nlohmann::json describe() const;
  std::string via_text() const;

  ProxyContext& context_;
  uint64_t id_;
  Via via_;
  bool forward_proxy_ = false;  // absolute-form HTTP through the HTTP proxy
  bool socks_greeted_ = false;
  UniqueFd client_;
  UniqueFd upstream_;
  sockaddr_storage peer_{};
  Stage stage_ = Stage::intake;
  std::string intake_;      // client bytes read before the relay
  size_t intake_used_ = 0;  // bytes of intake_ that were the request itself
  std::string host_;        // requested name (normalised) or IP literal text
  uint16_t port_ = 0;
  std::optional<IpAddress> literal_;
  std::vector<std::string> names_;  // names the destination was allowed as (SNI/Host must agree)
  std::vector<IpAddress> resolved_;
  std::vector<IpAddress> candidates_;
  size_t next_candidate_ = 0;
  std::optional<sockaddr_storage> dialled_;
  std::string rule_;
  const credentials::HeaderCredential* endpoint_ = nullptr;  // a local endpoint's credential
  uint16_t endpoint_port_ = 0;
  // Declared before the filters and relays that point at them, so they outlive them: the hook of
  // the first-bytes and plain filters (misuse only), and that of an intercepted connection.
  std::unique_ptr<intercept::CredentialHook> hook_;
  std::unique_ptr<intercept::CredentialHook> intercept_hook_;
  std::unique_ptr<DestinationFilter> pending_filter_;  // until the relay takes it
  // The first-bytes filter, kept when the connection is intercepted (for the audit fields).
  std::unique_ptr<DestinationFilter> first_filter_;
  const DestinationFilter* filter_ = nullptr;  // what describe() reports from
  std::string checked_;                        // client bytes the filter passed before the dial
  std::unique_ptr<StreamRelay> relay_;
  std::unique_ptr<intercept::InterceptRelay> intercept_relay_;
  uint64_t timer_ = 0;
  std::chrono::steady_clock::time_point started_;
  bool decided_ = false;
  bool answered_ = false;    // the client got an HTTP answer: close without a reset
  uint32_t over_limit_ = 0;  // the connection limit this session was over, 0 when not
  struct RecordedDenial {
    std::string reason;
    std::string rule;
  };
  std::optional<RecordedDenial> recorded_denial_;  // observe: refuse once the client has spoken
  bool tunnel_pretended_ = false;  // observe: CONNECT/SOCKS5 was told "open" to hear the client
};

}  // namespace airlock::egress

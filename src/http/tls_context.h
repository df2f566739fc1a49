// The server side of TLS: a certificate chain and its private key, loaded
// into an OpenSSL context that every connection's session is made from.
//
// TLS 1.2 and 1.3 only (older versions are deprecated, RFC 8996), OpenSSL's
// default cipher suites for those, no session tickets (a ticket key held in
// one process would need rotating and sharing across instances; resumption
// by session id still works per process), and no renegotiation.
//
// Thread safety: the context is read-only once made; sessions made from it
// may live on any thread.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "core/status.h"

namespace eventlogger::http {

struct TlsOptions {
  std::string certificate_chain_file;  // PEM: the server certificate, then any intermediates
  std::string private_key_file;        // PEM: its private key (unencrypted)
  bool enabled() const { return !certificate_chain_file.empty(); }
};

// InvalidArgument names the file that cannot be read or used, or says the
// key does not belong to the certificate.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsContext(const TlsOptions& options);

}  // namespace eventlogger::http

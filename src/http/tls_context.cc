#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace eventlogger::http {
namespace ssl = boost::asio::ssl;

namespace {

// OpenSSL's own reason for the last failure ("no such file", "key values
// mismatch"), which says more than asio's generic error.
std::string LastOpenSslError(const boost::system::error_code& ec) {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return ec.message();
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

Result<std::unique_ptr<ssl::context>> MakeTlsContext(const TlsOptions& options) {
  if (options.certificate_chain_file.empty() || options.private_key_file.empty()) {
    return Status::InvalidArgument("TLS needs both a certificate (--tls-cert) and its private key (--tls-key)");
  }
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return Status::Internal("OpenSSL refused to set the minimum TLS version");
  }
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                       ssl::context::single_dh_use);
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  boost::system::error_code ec;
  ERR_clear_error();
  context->use_certificate_chain_file(options.certificate_chain_file, ec);
  if (ec) {
    return Status::InvalidArgument("cannot use the TLS certificate " + options.certificate_chain_file + ": " +
                                   LastOpenSslError(ec));
  }
  context->use_private_key_file(options.private_key_file, ssl::context::pem, ec);
  if (ec) {
    return Status::InvalidArgument("cannot use the TLS private key " + options.private_key_file + ": " +
                                   LastOpenSslError(ec));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Status::InvalidArgument("the TLS private key " + options.private_key_file +
                                   " does not belong to the certificate " + options.certificate_chain_file);
  }
  return context;
}

}  // namespace eventlogger::http

/*
 * getOriginalDst(fd) -> { address, port, family }
 *
 * A connection redirected by iptables/nft REDIRECT arrives at the proxy's own
 * port; the kernel's conntrack entry still knows where the application meant to
 * go. SO_ORIGINAL_DST (IPv4) and IP6T_SO_ORIGINAL_DST (IPv6) read it back. Node has
 * no API for either, hence this addon.
 *
 * The socket's own family decides which option to ask: an IPv6 socket may carry
 * an IPv4-mapped peer, in which case the IPv4 option answers (tried second).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <node_api.h>
#include "weft_native.h"

#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

static napi_value make_result(napi_env env, const char *address, int port, int family) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "address", v);
  napi_create_int32(env, port, &v);
  napi_set_named_property(env, obj, "port", v);
  napi_create_int32(env, family, &v);
  napi_set_named_property(env, obj, "family", v);
  return obj;
}

napi_value weft_get_original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "getOriginalDst(fd) needs a non-negative integer fd");
    return NULL;
  }

  struct sockaddr_storage local;
  socklen_t len = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &len) != 0) {
    return weft_throw_errno(env, "getsockname", errno);
  }

  char text[INET6_ADDRSTRLEN];
  if (local.ss_family == AF_INET6) {
    struct sockaddr_in6 dst6;
    socklen_t len6 = sizeof dst6;
    memset(&dst6, 0, sizeof dst6);
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst6, &len6) == 0) {
      inet_ntop(AF_INET6, &dst6.sin6_addr, text, sizeof text);
      return make_result(env, text, ntohs(dst6.sin6_port), 6);
    }
    /* Not redirected by ip6tables: maybe an IPv4 connection on a dual-stack socket. */
    if (errno != ENOENT && errno != ENOPROTOOPT) {
      return weft_throw_errno(env, "getsockopt(IP6T_SO_ORIGINAL_DST)", errno);
    }
  }

  struct sockaddr_in dst4;
  socklen_t len4 = sizeof dst4;
  memset(&dst4, 0, sizeof dst4);
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst4, &len4) != 0) {
    return weft_throw_errno(env, "getsockopt(SO_ORIGINAL_DST)", errno);
  }
  inet_ntop(AF_INET, &dst4.sin_addr, text, sizeof text);
  return make_result(env, text, ntohs(dst4.sin_port), 4);
}

// prepayd's method table: every JSON-RPC method of the API, its params schema and who may call
// it — the permissions matrix in one place. The dispatcher enforces it on every call; docs/api.md
// lists the same methods and the same matrix, and a test compares the two. Adding a method means
// adding it here, binding its handler in backoffice/service, and documenting it in docs/api.md.
//
// Version: apiVersion changes when a method's meaning or params change incompatibly; new methods
// and new optional params do not change it.
#pragma once

#include "api/contract.h"

namespace prepay::rpc {

inline constexpr int apiVersion = 1;

QList<MethodSpec> methodTable();

} // namespace prepay::rpc

// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_DECORATE_HPP
#define MEND_DECORATE_HPP

#include <mend/result.hpp>
#include <mend/version.hpp>

#include <type_traits>
#include <utility>

MEND_BEGIN_NAMESPACE

namespace detail {

// One policy wrapped around a callable: calling the layer runs
// policy->execute(inner, args...). The policy is shared by pointer, so a
// layer is as cheap to copy as the callable it holds.
template <class Inner, class Policy>
class layer {
 public:
  layer(Inner inner, Policy& policy) : inner_(std::move(inner)), policy_(&policy) {}

  template <class... Args>
  auto operator()(Args&&... args) {
    return policy_->execute(inner_, std::forward<Args>(args)...);
  }

  // True when some policy in this stack would reject a call made now. A retry
  // outside the stack asks this before it sleeps.
  bool would_reject() {
    if constexpr (requires(Policy& p) { p.would_reject(); }) {
      if (policy_->would_reject()) return true;
    }
    if constexpr (requires(Inner& i) { i.would_reject(); }) {
      return inner_.would_reject();
    } else {
      return false;
    }
  }

 private:
  Inner inner_;
  Policy* policy_;
};

}  // namespace detail

// A callable wrapped in policies, built by decorate(f).with(p1).with(p2):
// calling it runs p2.execute(p1-layer, args...), so the last policy added is
// the outermost. With a breaker and then a retry, each retry attempt goes
// through the breaker, and the retry stops as soon as the breaker opens.
// Policies are held by reference and must outlive the decorated callable.
//
//   auto read_order = mend::decorate([&](int id) { return client.read_order(id); })
//                         .with(breaker)
//                         .with(retry);
//   mend::result<Order> order = read_order(42);
//
// The call returns result<T> whether the callable returns T, result<T>,
// std::error_code or void, and it never throws: exceptions become errors.
template <class F>
class decorated {
 public:
  explicit decorated(F f) : f_(std::move(f)) {}

  // Wraps this callable in `policy`, which must provide execute(f, args...).
  template <class Policy>
  decorated<detail::layer<F, Policy>> with(Policy& policy) const& {
    return decorated<detail::layer<F, Policy>>{detail::layer<F, Policy>{f_, policy}};
  }
  template <class Policy>
  decorated<detail::layer<F, Policy>> with(Policy& policy) && {
    return decorated<detail::layer<F, Policy>>{detail::layer<F, Policy>{std::move(f_), policy}};
  }

  template <class... Args>
  auto operator()(Args&&... args) -> detail::invoke_result_t<F&, Args...> {
    return detail::invoke_as_result(f_, std::forward<Args>(args)...);
  }

  bool would_reject() {
    if constexpr (requires(F& f) { f.would_reject(); }) {
      return f_.would_reject();
    } else {
      return false;
    }
  }

 private:
  F f_;
};

// Starts a decoration: decorate(f).with(breaker).with(retry).
template <class F>
decorated<std::decay_t<F>> decorate(F&& f) {
  return decorated<std::decay_t<F>>{std::forward<F>(f)};
}

MEND_END_NAMESPACE

#endif  // MEND_DECORATE_HPP

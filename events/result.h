#pragma once
// result<T>: a value or a rejection, the shape of std::expected (C++23) for g++ 12.
// Rejections are values (STYLE.md): the hot path never throws for a broken business rule.

#include <cassert>
#include <cstdlib>
#include <utility>
#include <variant>

#include "events/rejection.h"

namespace daybook {

template <typename T, typename E = rejection>
class result {
public:
    result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
    result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return checked<0>(); }
    const T& value() const& { return checked<0>(); }
    T&& value() && { return std::move(checked<0>()); }
    const E& error() const { return checked<1>(); }

    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }

private:
    template <std::size_t I>
    auto& checked() const {
        // Reading the wrong alternative is a bug, never a business outcome.
        if (v_.index() != I) std::abort();
        return const_cast<std::variant_alternative_t<I, std::variant<T, E>>&>(std::get<I>(v_));
    }
    std::variant<T, E> v_;
};

// A result with nothing in it but success or a rejection.
struct ok_t {};
inline constexpr ok_t ok{};

}  // namespace daybook

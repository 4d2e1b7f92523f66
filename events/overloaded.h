#pragma once
// overloaded{...}: a visitor from lambdas, so std::visit over a command or event variant does not
// compile when an alternative is unhandled.

namespace daybook {

template <typename... Fs>
struct overloaded : Fs... {
    using Fs::operator()...;
};
template <typename... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

}  // namespace daybook

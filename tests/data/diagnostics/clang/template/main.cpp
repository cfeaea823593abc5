#include <string>
#include <vector>

template <typename T>
T sum(const std::vector<T>& items) {
    T total = 0;
    for (const auto& it : items) {
        total += it.value();
    }
    return total;
}

int main() {
    std::vector<int> numbers{1, 2, 3};
    return sum(numbers);
}

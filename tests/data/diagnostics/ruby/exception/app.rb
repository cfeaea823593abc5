require_relative "lib/cart"

puts "cart service starting on 0.0.0.0:4567"
cart = Cart.new([{ price: 3 }, nil])
puts cart.total

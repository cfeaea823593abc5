def price(total)
  discount = 0.1
  total * 2
end

puts price(3)

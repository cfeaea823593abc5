def greet(name)
  if name
    "hello #{name}"
end

puts greet("x")

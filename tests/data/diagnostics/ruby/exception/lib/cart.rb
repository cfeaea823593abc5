class Cart
  def initialize(items)
    @items = items
  end

  def total
    @items.sum { |item| line_total(item) }
  end

  def line_total(item)
    item.fetch(:price) * 2
  end
end

// The demo catalog generator (see demo_catalog.hpp): category x adjective x
// noun, with prices and stock derived from the position, not from a RNG.
#include "actors/catalog/demo_catalog.hpp"

#include <array>
#include <string>

namespace emporium {

namespace {

struct category_words {
  const char* category;
  std::array<const char*, 8> nouns;
  cents base_price;
};

constexpr std::array<category_words, 8> categories = {{
  {"Electronics", {"Headphones", "Bluetooth Speaker", "USB-C Charger", "Smart Watch",
                   "E-Reader", "Webcam", "Mechanical Keyboard", "Wireless Mouse"}, 2499},
  {"Kitchen", {"Chef's Knife", "Cast Iron Skillet", "French Press", "Cutting Board",
               "Stand Mixer", "Tea Kettle", "Spice Rack", "Mixing Bowl Set"}, 1299},
  {"Books", {"Cookbook", "Travel Guide", "Mystery Novel", "Science Fiction Anthology",
             "Field Guide to Birds", "Poetry Collection", "History of Maps",
             "Programming Handbook"}, 899},
  {"Clothing", {"Rain Jacket", "Wool Sweater", "Denim Jeans", "Linen Shirt", "Hiking Socks",
                "Baseball Cap", "Leather Belt", "Running Shorts"}, 1599},
  {"Sports", {"Yoga Mat", "Tennis Racket", "Water Bottle", "Dumbbell Pair", "Jump Rope",
              "Cycling Gloves", "Climbing Chalk Bag", "Foam Roller"}, 1199},
  {"Home", {"Table Lamp", "Throw Blanket", "Scented Candle", "Wall Clock", "Plant Pot",
            "Picture Frame", "Door Mat", "Storage Basket"}, 999},
  {"Toys", {"Puzzle", "Building Blocks", "Plush Bear", "Kite", "Board Game", "Yo-Yo",
            "Model Train", "Art Set"}, 799},
  {"Garden", {"Pruning Shears", "Watering Can", "Seed Starter Kit", "Garden Gloves",
              "Hose Nozzle", "Bird Feeder", "Compost Bin", "Trowel"}, 1099},
}};

constexpr std::array<const char*, 5> adjectives = {"Classic", "Premium", "Compact", "Eco",
                                                   "Deluxe"};

constexpr std::array<const char*, 5> blurbs = {
  "A dependable everyday choice.",
  "Made from premium materials and built to last.",
  "Small, light and easy to carry along.",
  "Made from recycled materials with minimal packaging.",
  "Our finest edition, with every extra included.",
};

} // namespace

std::vector<demo_product> make_demo_catalog() {
  std::vector<demo_product> out;
  std::int64_t id = 1;
  for (std::size_t c = 0; c < categories.size(); ++c) {
    const auto& cat = categories[c];
    for (std::size_t n = 0; n < cat.nouns.size(); ++n) {
      for (std::size_t a = 0; a < adjectives.size(); ++a, ++id) {
        demo_product d;
        d.product.id = id;
        d.product.name = std::string{adjectives[a]} + " " + cat.nouns[n];
        d.product.description = std::string{blurbs[a]} + " " + cat.nouns[n] + " from our " +
                                cat.category + " range.";
        d.product.category = cat.category;
        // Price: base, scaled by the tier, nudged by the noun; ends in .99 or .49.
        cents raw = cat.base_price * static_cast<cents>(a + 2) / 2 +
                    static_cast<cents>(n) * 150;
        d.product.price = (raw / 100) * 100 + ((id % 2) == 0 ? 99 : 49);
        // Stock: mostly plenty, some scarce, a few sold out.
        auto mix = (id * 37) % 23;
        d.stock = mix == 0 ? 0 : mix < 3 ? mix + 1 : 20 + mix * 5;
        out.push_back(std::move(d));
      }
    }
  }
  return out;
}

} // namespace emporium

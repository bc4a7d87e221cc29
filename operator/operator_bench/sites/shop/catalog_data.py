"""The raw material the shop's catalogue is generated from: categories, product kinds,
brands, variant options and review text. All names are invented."""

from __future__ import annotations

from dataclasses import dataclass

COLOURS_TECH = ("Black", "White", "Space Grey", "Blue", "Red", "Green")
COLOURS_SOFT = ("Black", "Navy", "Heather Grey", "Olive", "Burgundy", "Sand", "White", "Sky Blue")
COLOURS_HOME = ("Stainless Steel", "Matte Black", "Sage", "Cream", "Terracotta", "Charcoal")
PHONES = ("Orbit 15", "Orbit 15 Pro", "Orbit 15 Pro Max", "Pixelle 8", "Pixelle 8 Pro", "Nova S24")
CLOTHES = ("XS", "S", "M", "L", "XL", "XXL")


@dataclass(frozen=True)
class Kind:
    """One sort of product: 'USB-C to USB-C Cable' with its options and price band."""

    name: str
    specs: tuple[str, ...]  # the spec part of the title
    price: tuple[int, int]  # base price band in cents (cheapest variant)
    colours: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    size_label: str = "Size"
    size_step: int = 0  # cents added per size step (longer cable, bigger bottle)
    features: tuple[str, ...] = ()
    weight: int = 1  # share of its category


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    share: int  # products per 1,000
    brands: tuple[str, ...]
    kinds: tuple[Kind, ...]


CABLE_FEATURES = (
    "Braided nylon jacket survives 30,000+ bends.",
    "Supports USB Power Delivery fast charging.",
    "Reinforced strain relief at both connectors.",
    "Works with phones, tablets and laptops.",
    "Aluminium connector housings that don't crack.",
)
LENGTHS = ("0.5 m", "1 m", "2 m", "3 m")

CATEGORIES: tuple[Category, ...] = (
    Category("cables-adapters", "Cables & Adapters", 250,
             ("Voltix", "Cordova", "Linkwell", "Braidly", "Tetherline", "Amperio", "Portside"), (
        Kind("USB-C to USB-C Cable", ("60W Fast Charging", "100W PD, USB 2.0", "240W, Braided",
                                      "USB 3.2 Gen 2, 10Gbps", "Thunderbolt 4, 40Gbps"),
             (599, 2999), COLOURS_TECH[:5], LENGTHS, "Length", 200, CABLE_FEATURES, 5),
        Kind("USB-C to USB-A Cable", ("3A Fast Charging", "USB 3.0, 5Gbps", "Braided, 2-Pack"),
             (499, 1699), COLOURS_TECH[:4], LENGTHS, "Length", 150, CABLE_FEATURES, 3),
        Kind("USB-C to Lightning Cable", ("MFi Certified", "20W Fast Charging", "Braided"),
             (799, 2299), COLOURS_TECH[:4], LENGTHS[1:], "Length", 200, CABLE_FEATURES, 2),
        Kind("Micro-USB Cable", ("2.4A Charging", "Braided, 3-Pack"), (399, 999),
             COLOURS_TECH[:3], LENGTHS[1:], "Length", 100, CABLE_FEATURES, 1),
        Kind("HDMI 2.1 Cable", ("8K@60Hz, 48Gbps", "4K@120Hz, eARC"), (899, 2999),
             ("Black",), ("1 m", "2 m", "3 m", "5 m"), "Length", 300,
             ("Certified Ultra High Speed.", "Gold-plated connectors.", "Supports HDR and VRR."), 2),
        Kind("DisplayPort 1.4 Cable", ("8K@60Hz", "4K@144Hz"), (999, 2499), ("Black",),
             ("1 m", "2 m", "3 m"), "Length", 250, ("VESA certified.", "Latching connectors."), 1),
        Kind("Cat 6 Ethernet Cable", ("Flat, Snagless", "Shielded, 10Gbps"), (499, 1999),
             ("Blue", "Grey", "White", "Black"), ("1 m", "3 m", "5 m", "10 m"), "Length", 250,
             ("Snagless RJ45 plugs.", "Pure copper conductors."), 1),
        Kind("USB-C to HDMI Adapter", ("4K@60Hz", "Aluminium"), (1299, 2999), ("Space Grey", "Silver"),
             (), "Size", 0, ("Plug and play, no drivers.", "Supports HDCP 2.2."), 1),
        Kind("USB-C Hub", ("7-in-1, 4K HDMI", "10-in-1, Ethernet, SD", "5-in-1, 100W PD"), (1999, 6999),
             ("Space Grey", "Silver"), (), "Size", 0,
             ("Passes through 100W charging.", "Reads SD and microSD cards."), 1),
    )),
    Category("chargers-power", "Chargers & Power", 130,
             ("Voltix", "NovaCharge", "Amperio", "Gridline", "Kilowatt Co."), (
        Kind("USB-C Wall Charger", ("20W", "30W GaN", "45W GaN", "65W GaN, 2 Ports", "100W GaN, 3 Ports"),
             (1199, 5999), ("White", "Black"), (), "Size", 0,
             ("GaN design runs cool and small.", "Charges a laptop and a phone at once.",
              "Foldable plug for travel."), 4),
        Kind("Car Charger", ("Dual USB-C, 40W", "USB-C + USB-A, 48W"), (999, 2499), ("Black",), (),
             "Size", 0, ("Fits flush in the socket.",), 1),
        Kind("Wireless Charging Pad", ("15W", "3-in-1 Stand"), (1499, 4999), ("Black", "White"), (),
             "Size", 0, ("Charges through cases up to 5 mm.",), 2),
        Kind("Portable Power Bank", ("22.5W", "65W Laptop"), (1999, 5999), ("Black", "White", "Blue"),
             ("10,000 mAh", "20,000 mAh", "26,800 mAh"), "Capacity", 1000,
             ("Charges two devices at once.", "Airline-safe capacity."), 3),
    )),
    Category("headphones-audio", "Headphones & Audio", 90,
             ("Kestrel Audio", "Sonora", "Hushwave", "Basslane"), (
        Kind("Wireless Earbuds", ("Active Noise Cancelling", "Sport, IPX7", "Open-Ear"), (1999, 12999),
             ("Black", "White", "Navy"), (), "Size", 0,
             ("Up to 30 hours with the case.", "Multipoint Bluetooth 5.3."), 3),
        Kind("Over-Ear Headphones", ("Noise Cancelling", "Studio Monitor"), (3999, 29999),
             ("Black", "Silver", "Midnight Blue"), (), "Size", 0, ("Memory-foam ear cushions.",), 2),
        Kind("Bluetooth Speaker", ("Waterproof", "Portable, 20W"), (2499, 14999),
             ("Black", "Teal", "Red"), (), "Size", 0, ("Floats in water.",), 2),
    )),
    Category("phone-cases", "Phone Cases & Protection", 90,
             ("Armorix", "Shellguard", "Clearcase Co.", "Halo"), (
        Kind("Clear Case", ("Anti-Yellowing", "MagSafe Compatible"), (999, 2499), ("Clear", "Frost"),
             PHONES, "Model", 0, ("Raised edges protect the camera.",), 2),
        Kind("Silicone Case", ("Soft-Touch",), (1299, 2999), ("Black", "Sage", "Pink", "Navy"),
             PHONES, "Model", 0, ("Microfibre lining.",), 2),
        Kind("Rugged Case", ("Military Drop Tested",), (1499, 3999), ("Black", "Olive"), PHONES,
             "Model", 0, ("Tested to 3 m drops.",), 1),
        Kind("Tempered Glass Screen Protector", ("2-Pack", "Privacy, 2-Pack"), (699, 1999), (),
             PHONES, "Model", 0, ("Bubble-free installation frame.",), 2),
    )),
    Category("computer-accessories", "Computer Accessories", 90,
             ("Keyforge", "Clickmate", "Deskwise", "Logicraft"), (
        Kind("Wireless Mouse", ("Silent Click", "Ergonomic Vertical"), (1299, 7999),
             ("Black", "White", "Graphite"), (), "Size", 0, ("Up to 18 months per battery.",), 2),
        Kind("Mechanical Keyboard", ("Hot-Swappable", "Low-Profile"), (4999, 15999), ("Black", "White"),
             ("75%", "Tenkeyless", "Full size"), "Layout", 1000, ("Tactile brown switches.",), 2),
        Kind("Laptop Stand", ("Adjustable Aluminium",), (1999, 4999), ("Silver", "Space Grey"), (),
             "Size", 0, ("Six height settings.",), 1),
        Kind("1080p Webcam", ("with Privacy Cover", "Auto Focus"), (2499, 7999), ("Black",), (), "Size", 0,
             ("Dual microphones.",), 1),
    )),
    Category("home-kitchen", "Home & Kitchen", 100,
             ("Hearthware", "Brewster & Co.", "Copperleaf", "Kitchenly"), (
        Kind("Insulated Water Bottle", ("Stainless Steel",), (1499, 3499), COLOURS_HOME,
             ("500 ml", "750 ml", "1 l"), "Capacity", 300, ("Cold for 24 hours, hot for 12.",), 3),
        Kind("Ceramic Coffee Mug", ("Set of 2",), (1299, 2999), COLOURS_HOME, ("300 ml", "450 ml"),
             "Capacity", 200, ("Dishwasher safe.",), 2),
        Kind("Electric Kettle", ("1.7 l, Temperature Control",), (2999, 8999),
             ("Stainless Steel", "Matte Black"), (), "Size", 0, ("Keeps warm for 30 minutes.",), 1),
        Kind("Non-Stick Frying Pan", ("Induction Ready",), (1999, 5999), ("Charcoal",),
             ("20 cm", "24 cm", "28 cm"), "Diameter", 500, ("PFOA-free coating.",), 2),
    )),
    Category("clothing", "Clothing", 100,
             ("Threadline", "Northpeak", "Common Thread", "Fieldmark"), (
        Kind("Crew Neck T-Shirt", ("Organic Cotton", "Heavyweight"), (999, 3499), COLOURS_SOFT,
             CLOTHES, "Size", 0, ("Pre-shrunk.", "Relaxed fit."), 3),
        Kind("Pullover Hoodie", ("Fleece-Lined",), (2999, 6999), COLOURS_SOFT, CLOTHES,
             "Size", 0, ("Kangaroo pocket.",), 2),
        Kind("Running Shorts", ("7-inch, Lined",), (1999, 4499), ("Black", "Navy", "Olive"),
             CLOTHES[1:5], "Size", 0, ("Zip pocket for keys.",), 1),
        Kind("Merino Wool Socks", ("3 Pairs",), (1499, 2999), ("Charcoal", "Navy", "Oatmeal"),
             ("S/M", "L/XL"), "Size", 0, ("Naturally odour resistant.",), 1),
    )),
    Category("sports-outdoors", "Sports & Outdoors", 60,
             ("Trailhawk", "Summitry", "Peakform"), (
        Kind("Yoga Mat", ("6 mm, Non-Slip",), (1999, 5999), ("Purple", "Teal", "Black"), (), "Size", 0,
             ("Carry strap included.",), 2),
        Kind("Adjustable Dumbbell", ("Quick-Lock",), (3999, 14999), ("Black",), ("10 kg", "20 kg", "32 kg"),
             "Weight", 3000, ("Changes weight in seconds.",), 1),
        Kind("Hiking Backpack", ("with Rain Cover",), (3999, 12999), ("Black", "Olive", "Orange"),
             ("20 l", "30 l", "40 l"), "Capacity", 1000, ("Ventilated back panel.",), 2),
        Kind("Camping Tent", ("Waterproof, 3-Season",), (5999, 24999), ("Green", "Orange"),
             ("2-person", "4-person"), "Capacity", 4000, ("Sets up in 5 minutes.",), 1),
    )),
    Category("office-stationery", "Office & Stationery", 45,
             ("Inkwell", "Papercraft", "Ledgerline"), (
        Kind("Hardcover Notebook", ("A5, Dotted", "A5, Lined"), (799, 2499),
             ("Black", "Navy", "Forest Green"), (), "Size", 0, ("Lies flat when open.",), 2),
        Kind("Gel Pens", ("0.5 mm",), (599, 1999), (), ("10-pack", "20-pack"), "Pack", 400,
             ("Quick-drying ink.",), 1),
        Kind("LED Desk Lamp", ("Dimmable, USB Port",), (2499, 6999), ("White", "Black"), (), "Size", 0,
             ("Five colour temperatures.",), 1),
    )),
    Category("toys-games", "Toys & Games", 45,
             ("Brightblock", "Puzzlebox", "Gamewright & Sons"), (
        Kind("Jigsaw Puzzle", ("1000 Pieces",), (1299, 2999), (), (), "Size", 0,
             ("Thick, snug-fit pieces.",), 2),
        Kind("Strategy Board Game", ("2-5 Players",), (1999, 5999), (), (), "Size", 0,
             ("Games last 45-90 minutes.",), 2),
        Kind("Building Blocks Set", ("Creative",), (1999, 7999), (),
             ("250 pieces", "500 pieces", "1000 pieces"), "Size", 1500,
             ("Compatible with major brands.",), 1),
    )),
)

ADJECTIVES = ("Premium", "Essential", "Pro", "Ultra", "Classic", "Everyday", "Travel", "Compact",
              "Heavy-Duty", "Slim", "Max", "Plus", "Lite", "Signature")
GENERIC = ("Backed by a 12-month warranty.", "Ships in recyclable packaging.",
           "Designed and tested in our own lab.", "Free returns within 30 days.")

FIRST = ("Sam", "Priya", "Jordan", "Mei", "Carlos", "Aisha", "Tom", "Elena", "Kofi", "Hannah", "Luis",
         "Yuki", "Noah", "Fatima", "Ben", "Ingrid", "Omar", "Grace", "Ravi", "Chloe")
LAST_INITIAL = "ABCDEFGHJKLMNPRSTW"
REVIEWS = {
    5: (("Exactly what I needed", "Works perfectly and arrived a day early."),
        ("Excellent quality", "Feels far sturdier than the one it replaced."),
        ("Five stars", "Does the job, looks good, no complaints at all.")),
    4: (("Very good", "Works well. Packaging could be smaller."),
        ("Solid buy", "Good value for the price, would buy again.")),
    3: (("It's okay", "Does what it says, but the finish is a bit cheap."),
        ("Average", "Fine for the price. Nothing special.")),
    2: (("Disappointed", "Stopped working properly after a few weeks."),),
    1: (("Do not buy", "Arrived damaged and the replacement was no better."),),
}

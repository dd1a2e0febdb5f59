"""The demo programme's cast: partner agencies, service providers, events, people."""

DEMO_PASSWORDS = {
    "manager": "demo-manager-pass",
    "evaluator": "demo-evaluator-pass",
    "applicant": "demo-applicant-pass",
}

# The partner agencies, one per region (a later phase added NRW and Ireland).
PARTNERS = [
    ("Biocat", "ES", "Catalonia"),
    ("Brabant Development Agency", "NL", "North Brabant"),
    ("East Netherlands Development Agency", "NL", "Gelderland and Overijssel"),
    ("Biopeople", "DK", "Capital Region of Denmark"),
    ("BioRegio STERN Management", "DE", "Baden-Wuerttemberg"),
    ("GM Business Support", "UK", "Greater Manchester"),
    ("Kent County Council", "UK", "Kent"),
    ("Eurasante", "FR", "Hauts-de-France"),
    ("ID2Sante", "FR", "Brittany"),
    ("University of Liege", "BE", "Wallonia"),
]

PROVIDERS = [
    ("Leitat Technological Center", "ES", "Catalonia", "Product testing, biocompatibility"),
    ("Eurecat Health Unit", "ES", "Catalonia", "Clinical usability studies"),
    ("TNO Healthy Living", "NL", "North Brabant", "Market studies, health economics"),
    ("Maastricht Health Campus Services", "NL", "Limburg", "Clinical trial design"),
    ("Novo Labs Validation ApS", "DK", "Capital Region of Denmark", "Assay validation"),
    ("Medicon Valley Market Insight", "DK", "Capital Region of Denmark", "Market access"),
    ("NMI Reutlingen Testing", "DE", "Baden-Wuerttemberg", "Analytical testing, GMP audits"),
    ("Steinbeis MedTech Consulting", "DE", "Baden-Wuerttemberg", "MDR regulatory advice"),
    ("Manchester Health Economics Ltd", "UK", "Greater Manchester",
     "Health technology assessment"),
    ("Citylabs Validation Services", "UK", "Greater Manchester", "Diagnostics validation"),
    ("Discovery Park Analytics", "UK", "Kent", "Preclinical analytics"),
    ("Clinnov Lille", "FR", "Hauts-de-France", "Clinical investigation support"),
    ("Nutrition Testing Lab Lille", "FR", "Hauts-de-France", "Nutrition claims substantiation"),
    ("Biotrial Rennes Services", "FR", "Brittany", "Early-phase clinical services"),
    ("Silver Valley Market Lab", "FR", "Brittany", "Ageing-population market studies"),
    ("CER Groupe Marche", "BE", "Wallonia", "Food and feed testing"),
    ("GIGA Validation Platform", "BE", "Wallonia", "Genomics and imaging validation"),
    ("Life Science Regulatory Partners GmbH", "DE", "North Rhine-Westphalia",
     "Regulatory strategy, CE marking"),
    ("Cork Medtech Test House", "IE", "Southern Region", "Device bench testing"),
    ("Dublin Digital Health Evidence", "IE", "Eastern and Midland", "Real-world evidence"),
]

LEGAL_SUFFIX = {"ES": "S.L.", "NL": "B.V.", "DK": "ApS", "DE": "GmbH", "UK": "Ltd",
                "FR": "SAS", "BE": "SRL", "IE": "Ltd"}

# The providers whose work is a market study (the others test products).
MARKET_PROVIDERS = {"TNO Healthy Living", "Medicon Valley Market Insight",
                    "Steinbeis MedTech Consulting", "Manchester Health Economics Ltd",
                    "Silver Valley Market Lab", "Life Science Regulatory Partners GmbH",
                    "Dublin Digital Health Evidence"}

# Whom each sector sells to, and a first customer it might find.
BUYERS = {"biotech": ("pharma licensing teams", "a mid-sized pharma company"),
          "medtech": ("hospital procurement teams", "a hospital group"),
          "diagnostics": ("laboratory and hospital buyers", "a laboratory chain"),
          "digital_health": ("health insurers and hospital groups", "a regional health insurer"),
          "nutrition": ("food and dairy manufacturers", "a dairy cooperative")}

# Trade fairs and partnering events: (name, where, the sectors whose buyers go there).
EVENTS = [
    ("BIO-Europe", "Copenhagen, Denmark", {"biotech", "diagnostics", "medtech",
                                           "digital_health"}),
    ("MEDICA", "Duesseldorf, Germany", {"medtech", "diagnostics", "digital_health"}),
    ("the BIO International Convention", "San Diego, USA", {"biotech"}),
    ("Vitafoods Europe", "Barcelona, Spain", {"nutrition"}),
    ("Food Ingredients Europe", "Frankfurt, Germany", {"nutrition", "biotech"}),
    ("HLTH Europe", "Amsterdam, Netherlands", {"digital_health", "medtech"}),
    ("the Arab Health trade mission", "Dubai, UAE", {"medtech", "diagnostics"}),
]

CRITERIA = {
    "travel": [("Relevance of the event", "2"), ("Expected partnerships", "1")],
    "market_validation": [("Innovation", "1"), ("Market potential", "2"),
                          ("Quality of the provider's offer", "1")],
    "product_validation": [("Innovation", "1"), ("Technical feasibility", "2"),
                           ("Quality of the provider's offer", "1")],
    "impact": [("Expected outcome", "2"), ("Indicators and evidence", "1")],
}

# type: quota, max amount, funding rate, envelope (together the EUR 1.24 million).
TYPES = [
    ("travel", 12, "6000", "1.00", "80000"),
    ("market_validation", 6, "60000", "0.75", "360000"),
    ("product_validation", 5, "100000", "0.75", "500000"),
    ("impact", 3, "100000", "0.50", "300000"),
]


# A contact person's first names and surnames per country.
PEOPLE = {
    "ES": (["Núria", "Jordi", "Laia", "Marc"], ["Puig", "Ferrer", "Vidal", "Soler"]),
    "NL": (["Sanne", "Joost", "Femke", "Bram"], ["de Jong", "Bakker", "Visser", "Smit"]),
    "DK": (["Mette", "Rasmus", "Freja", "Søren"], ["Nielsen", "Jensen", "Madsen", "Holm"]),
    "DE": (["Katrin", "Jonas", "Lena", "Felix"], ["Weber", "Schneider", "Fischer", "Wagner"]),
    "UK": (["Emma", "James", "Priya", "Owen"], ["Clarke", "Patel", "Evans", "Hughes"]),
    "FR": (["Camille", "Julien", "Élodie", "Hugo"], ["Lefèvre", "Moreau", "Le Gall", "Girard"]),
    "BE": (["Manon", "Thomas", "Julie", "Maxime"], ["Dubois", "Lambert", "Renard", "Collard"]),
    "IE": (["Aoife", "Cian", "Niamh", "Darragh"], ["Murphy", "O'Brien", "Walsh", "Byrne"]),
}

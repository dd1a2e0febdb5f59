"""What the demo's people write: company profiles, summaries, reviews, reports, decisions.

Kept apart from story.py, which decides who does what and when. Each text is drawn from a
Deck, which deals its variants in a shuffled order before repeating any, and is filled in
with the company's own product, provider or event, so no two applications read alike.
"""

from __future__ import annotations

import random
import re

# name: (sector, the product in a few words, what the company does, as it would say it)
SMES: dict[str, tuple[str, str, str]] = {
    "Aquilon Biotech": ("biotech", "the AQ-Col scaffold",
                        "We make cartilage-repair scaffolds from collagen recovered from "
                        "fish-processing waste; the first is CE-marked for knee surgery."),
    "Brightcell Diagnostics": ("diagnostics", "our 15-minute CRP test",
                               "Our finger-prick CRP test gives a result in 15 minutes, so a GP "
                               "can decide on antibiotics before the patient leaves."),
    "CardioSense Medical": ("medtech", "the 14-day ECG patch",
                            "We make an adhesive ECG patch worn for 14 days that catches the "
                            "arrhythmias a 24-hour Holter misses."),
    "Dermagen Labs": ("biotech", "our reconstructed skin models",
                      "We supply reconstructed human skin that replaces animal tests in "
                      "cosmetics and topical-drug safety studies."),
    "Enzymix": ("biotech", "the cold-active lactase",
                "We engineer lactase enzymes that work at fridge temperature, so dairies make "
                "lactose-free milk without a heating step."),
    "Fluidosome Therapeutics": ("biotech", "inhaled liposomal amikacin",
                                "We are developing an inhaled liposomal antibiotic for people "
                                "with cystic fibrosis and resistant lung infections."),
    "GenoSight": ("diagnostics", "the retinal gene panel",
                  "We sequence a 280-gene panel for inherited retinal disease and return a "
                  "clinical report within three weeks."),
    "HeliMed Devices": ("medtech", "the single-use bronchoscope",
                        "We build a single-use bronchoscope for intensive care, which removes "
                        "the infection risk of reprocessing."),
    "ImmunoTrace": ("diagnostics", "the allergen component test",
                    "We measure IgE against 40 allergen components from one drop of blood."),
    "Juniper Nutrition": ("nutrition", "our high-protein oat drink",
                          "We make oat drinks with 12 g of protein a serving for older people "
                          "at risk of losing muscle."),
    "Kinetiq Health": ("digital_health", "the Kinetiq rehab app",
                       "Our app uses the phone's camera to check that patients do their knee "
                       "rehabilitation exercises correctly at home."),
    "Lumiscan Imaging": ("medtech", "the handheld skin scanner",
                         "Our handheld scanner images a mole below the surface, so "
                         "dermatologists biopsy fewer benign lesions."),
    "MycoPure Foods": ("nutrition", "our mycoprotein mince",
                       "We ferment breweries' spent grain into a mycoprotein mince for meat-free "
                       "ready meals."),
    "NeuroPulse": ("medtech", "the NeuroPulse headband",
                   "Our headband stimulates the supraorbital nerve and reduces the number of "
                   "migraine days."),
    "Oculara": ("digital_health", "the retinopathy grading software",
                "Our software grades retinal photographs for diabetic retinopathy in "
                "opticians' practices."),
    "PeptiCure": ("biotech", "the peptide-coated dressing",
                  "We design short antimicrobial peptides that stay active in wound fluid and "
                  "bind to standard dressings."),
    "Quantibio": ("diagnostics", "the three-marker sepsis panel",
                  "Our blood panel flags sepsis in the emergency department hours before "
                  "cultures come back."),
    "RespiraTech": ("medtech", "the inhaler add-on",
                    "Our clip-on sensor records every inhaler dose and how well the patient "
                    "inhaled it."),
    "SanaBiome": ("diagnostics", "the IBS microbiome test",
                  "We profile the gut microbiome to tell IBS sub-types apart and guide the "
                  "choice of diet."),
    "Theralink Digital": ("digital_health", "the heart-failure monitoring service",
                          "We collect weight, blood pressure and symptoms at home and alert the "
                          "heart-failure nurse when a patient gets worse."),
    "Uromed Solutions": ("medtech", "the coated urinary catheter",
                         "Our catheter coating releases no antibiotic yet halves bacterial "
                         "colonisation in our bench models."),
    "Vitacode": ("digital_health", "the Vitacode coaching service",
                 "We turn a glucose sensor's data into personal meal advice from a dietitian."),
    "WoundWise": ("digital_health", "the wound-measurement app",
                  "District nurses photograph a wound with our app and get its area and "
                  "healing trend without a ruler."),
    "Xenolab": ("biotech", "the liver-on-chip model",
                "We build liver-on-chip models that predict drug-induced liver injury before "
                "first-in-human trials."),
    "Yeastwise Biotech": ("biotech", "yeast-made 2'-FL",
                          "We produce the human milk oligosaccharide 2'-FL by yeast "
                          "fermentation for infant formula."),
    "Zenith Orthopaedics": ("medtech", "the printed titanium spinal cage",
                            "We 3D-print porous titanium cages for spinal fusion, sized from "
                            "the patient's scan."),
    "Allergo Diagnostics": ("diagnostics", "the basophil activation test",
                            "Our basophil test tells a peanut allergy from a harmless "
                            "sensitisation without a food challenge."),
    "BoneBridge": ("medtech", "the resorbable bone graft",
                   "Our synthetic bone graft is replaced by the patient's own bone within a "
                   "year."),
    "Cellora": ("biotech", "our serum-free media",
                "We formulate serum-free media for manufacturing CAR-T and stem-cell "
                "therapies."),
    "DiaSmart": ("digital_health", "the insulin dose advisor",
                 "Our app suggests insulin doses from the glucose sensor and the meal the "
                 "patient logs."),
    "EpiGenix": ("diagnostics", "the methylation blood test",
                 "Our blood test detects colorectal cancer from methylated DNA fragments."),
    "FemCare Tech": ("medtech", "the pelvic-floor trainer",
                     "Our pelvic-floor trainer and app guide exercises after childbirth."),
    "Glycomics Nordic": ("biotech", "our glycan profiling service",
                         "We profile the glycans of biosimilars to show regulators they match "
                         "the original."),
    "Hepatica": ("diagnostics", "the liver-fibrosis breath test",
                 "Our breath test stages liver fibrosis without a biopsy."),
    "InsuLoop": ("medtech", "the patch pump",
                 "Our tubeless patch pump delivers insulin for three days on one fill."),
    "Jointly Health": ("digital_health", "the Jointly outcomes app",
                       "Rheumatology patients report joint pain and stiffness in our app "
                       "between clinic visits."),
    "KetoNova": ("nutrition", "our ketogenic medical foods",
                 "We make ready-to-drink ketogenic medical foods for children with epilepsy."),
    "Lipotrack": ("diagnostics", "the pharmacy cholesterol test",
                  "Our home cholesterol test sends its result to the patient's pharmacist."),
    "MicroFlu Devices": ("medtech", "the PCR cartridge",
                         "Our microfluidic cartridge runs a PCR test at the bedside in 20 "
                         "minutes."),
    "Nanobody Works": ("biotech", "our nanobody reagents",
                       "We make nanobody reagents for research and diagnostic kits."),
}

PLANS = {
    "travel": [
        "At {event} we have asked for partnering meetings with three distributors and with "
        "{buyers}; we want to leave with one evaluation agreement for {product}.",
        "{event} is where our buyers are in one place. We will present {product} in the "
        "start-up session and follow up the 20 meetings we requested through the partnering "
        "system.",
        "Our CEO and our head of regulatory will travel to {destination}. We are looking for "
        "a licensing partner for {product}; two companies have already accepted a meeting.",
        "Last year we learnt at a national fair that the buyers we need go to {event}. The "
        "voucher pays for the trip, so we can meet them there instead of waiting for them to "
        "find us.",
        "We need a first customer to pilot {product}. The {buyers} we want to reach all go "
        "to {event}, and the partnering system lets us book them in advance.",
        "The trip is planned around {event}: two days of one-to-one meetings and a visit to "
        "a contract manufacturer near {destination}.",
        "Our investors want interest from a large industry partner before the next round. "
        "{event} is the best place to start those talks for {product}.",
        "We will have a small stand in the start-up village at {event} and test our prices "
        "with the distributors who stop by.",
    ],
    # (the service bought, as the application's detail field says it; the plan)
    "market_validation": [
        ("Payer interviews and market sizing in three countries",
         "Clinicians like {product}; we do not yet know who pays for it. {provider} will "
         "interview payers and procurement leads in three countries and size each market."),
        ("30 buyer interviews and a pricing survey",
         "Before we hire a sales team we need evidence that buyers will pay. {provider} will "
         "run 30 structured interviews with buyers and a pricing survey."),
        ("Reimbursement mapping for Germany, France and the Netherlands",
         "{provider} has mapped reimbursement for similar products. They will tell us which "
         "codes {product} can use in each country, and what evidence each payer expects."),
        ("Bottom-up market model",
         "Our pitch deck quotes a market figure nobody has checked. We want {provider} to "
         "build a bottom-up market model for {product} that investors can rely on."),
        ("Business-model test with buyers",
         "The study tests two business models with {buyers} (selling {product} "
         "outright or as a service) and recommends one."),
        ("Export market scan: competitors, distributors, tender rules",
         "We chose {provider} because they know the market that will be our first export. "
         "The study maps competitors, distributors and tender rules there."),
    ],
    "product_validation": [
        ("Bench testing requested by the notified body",
         "{provider} will run the bench tests that our notified body asked for in its last "
         "review of the technical file for {product}."),
        ("Usability testing under IEC 62366 with 15 nurses",
         "We need independent usability testing before the design freeze. {provider} has a "
         "simulated ward and recruits the nurses."),
        ("Accredited repeat of the key performance tests",
         "Our performance data come from our own lab. Investors and the regulator want them "
         "repeated by an accredited laboratory, and {provider} is accredited for these "
         "methods."),
        ("Analytical validation on 300 archived samples",
         "{provider} will validate sensitivity, specificity and the limit of detection of "
         "{product} on 300 archived samples."),
        ("Real-time stability study",
         "Our shelf-life claim rests on accelerated ageing only. {provider} will run the "
         "real-time stability study that makes it a claim we can print on the label."),
        ("Biocompatibility testing to ISO 10993",
         "The work covers biocompatibility testing of {product}, which we cannot do "
         "in-house."),
    ],
    # (expected outcome | indicators; the plan)
    "impact": [
        ("Independent evidence of fewer readmissions|Readmissions at 90 days in two "
         "hospitals; cost per patient from a health-economic model",
         "{product} is in use in two hospitals, but nobody independent has measured what it "
         "changes for patients. The study compares outcomes before and after, and a health "
         "economist models the savings."),
        ("A budget-impact model payers accept|Model reviewed by two payers; one "
         "reimbursement application filed",
         "Payers keep asking us for a budget-impact model. The project builds one with "
         "clinicians and tests it in two payer meetings."),
        ("Published quality-of-life results|EQ-5D scores of at least 80 patients; one "
         "abstract and one manuscript",
         "We will measure what {product} does for patients' quality of life with a validated "
         "questionnaire and publish the results."),
    ],
}

# An applicant adds one of these now and then.
CLOSINGS = [
    "Without the voucher this would wait a year.",
    "The results go straight into our next investor update.",
    "This is the step our board asked for before we commit to a new market.",
    "If the answer is positive we will hire our first sales person abroad next year.",
    "We will share what we learn with our regional partner agency.",
    "Our two founders will do the follow-up themselves.",
    "We have set aside our own share of the costs from this year's budget.",
    "A similar step two years ago brought us our first export order.",
]

STRENGTHS = [
    "The need for {product} is well argued and the applicant knows its buyers.",
    "The questions the work must answer are specific to {product}, not generic.",
    "{company} shows a clear next commercial step after this activity.",
    "The costs are reasonable for what {company} wants to achieve.",
    "Good evidence of traction for {product} already; the voucher fills a clear gap.",
]
# Strengths only some voucher types can have (a provider, an event).
TYPE_STRENGTHS = {
    "travel": ["A focused plan: the meetings at {event} are requested and the targets named.",
               "{event} is the right event for the buyers of {product}."],
    "market_validation": ["{provider} is a sound choice for this study and the quote is "
                          "detailed.",
                          "The interview plan with {provider} names the buyer groups."],
    "product_validation": ["{provider} is accredited for exactly these tests.",
                           "The test plan with {provider} answers what the regulator will ask "
                           "about {product}."],
    "impact": ["The indicators for {product} are measurable and the data source is named.",
               "A health economist with payer experience is part of the {company} team."],
}
CONCERNS = [
    "I miss a plan for what {company} does if the result is negative.",
    "The expected outcome is vague; two or three measurable targets for {product} would "
    "help.",
    "It is not clear who at {company} will follow up the results.",
    "Competition gets one sentence, though products like {product} are already sold.",
    "The link between this activity and sales of {product} is asserted, not shown.",
]
TYPE_CONCERNS = {
    "travel": ["Two people for three days at {event} seems generous for the meetings planned.",
               "Few of the meetings requested at {event} are confirmed yet."],
    "market_validation": ["{provider}'s travel costs look high for the work described.",
                          "The study covers three countries; for {company} one done well "
                          "would be enough."],
    "product_validation": ["The timeline is tight given {provider}'s lead times.",
                           "The acceptance criteria of the tests at {provider} are not "
                           "stated."],
    "impact": ["Eighty patients may be too few to show what {product} changes.",
               "The model's assumptions for {product} are not yet agreed with any payer."],
}
VERDICTS = {
    "award": ["Recommended.", "I support funding.", "Fundable as proposed.",
              "A good use of the voucher."],
    "waitlist": ["Fundable, but not a priority this round.",
                 "Worth funding if money is left."],
    "reject": ["Not convincing enough for this call.", "I cannot recommend it as written."],
}

REPORTS = {
    "travel": [
        "We held {n} meetings at {event}, {k} with distributors. Two asked for evaluation "
        "units of {product}, and one has sent a draft distribution agreement.",
        "The partnering system worked well: {n} meetings in two days. The most useful was "
        "with {partner} that wants to pilot {product} next year; we meet again in "
        "March.",
        "We met {n} companies in {destination}. No agreement yet, but {k} follow-up calls "
        "are booked and we now know which certification the importers ask for.",
        "Costs were slightly below the budget because the hotel was shared. The trip gave us "
        "{k} qualified leads; the meeting notes are attached.",
    ],
    "market_validation": [
        "{provider} delivered the study in {weeks} weeks. The market is smaller than we "
        "assumed in France but larger in the Netherlands, so we change the order of entry.",
        "The interviews showed that buyers pay per use rather than per unit. We have changed "
        "our pricing for {product} and started talks with two distributors named in the "
        "study.",
        "{provider}'s report (attached) confirms a reimbursement route in Germany; in France "
        "we need a clinical study first. We have planned it for next year.",
    ],
    "product_validation": [
        "{provider} completed the tests in {weeks} weeks and {product} met every acceptance "
        "criterion. The reports went to our notified body last month.",
        "Two of the nine usability tasks failed at first; we changed the labelling and "
        "{provider} repeated them successfully. The final report is attached.",
        "The accredited results match our own within the stated uncertainty. We now quote "
        "them in our technical file and in sales material.",
    ],
    "impact": [
        "The before-and-after comparison covered {n} patients. Readmissions fell, and the "
        "model shows a saving per patient; the payer meetings took place in the autumn.",
        "The quality-of-life study recruited {n} patients. The results were presented at a "
        "national congress and the manuscript is under review.",
    ],
}

DECISIONS = {
    "award": ["Selected by the panel.", "Awarded as requested after the panel meeting.",
              "Ranked in the top third of the round; awarded.",
              "Both reviews positive; awarded."],
    "reject": ["Both evaluators scored the expected outcome below the threshold.",
               "Scored below the funding threshold in this round.",
               "Most of the activity would fall after the programme's implementation period.",
               "The plan does not show how the activity leads to new business; ranked low."],
    "waitlist": ["Good proposal; on the reserve list until money returns to the envelope.",
                 "Fundable; waiting for budget from cancelled vouchers."],
    "return_for_changes": ["Please attach the quote or registration behind each cost line.",
                           "The cost lines add up to more than the documents attached; "
                           "please correct them.",
                           "Please split the costs into the lines the call asks for."],
    "withdraw": ["We found another source of funding.",
                 "Our plans changed; we will apply in the next call.",
                 "We are putting the project on hold after a change in our team."],
    "cancel": ["The event was cancelled by its organiser.",
               "The company gave up the voucher after a change of plans."],
    "approve_report": ["Evidence complete.",
                       "The invoices match the costs claimed; approved.",
                       "Report and supporting documents complete; approved."],
}


def _capitalised(text: str) -> str:
    """Each sentence begins with a capital, also where it begins with "{product}"."""
    return re.sub(r"(^|[.!?] )([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


class Deck:
    """Deals ``items`` in a shuffled order; reshuffles only once all have been dealt."""

    def __init__(self, rng: random.Random, items: list):
        self._rng, self._items, self._left = rng, list(items), []

    def draw(self):
        if not self._left:
            self._left = list(self._items)
            self._rng.shuffle(self._left)
        return self._left.pop()


class Writer:
    """Every text of the demo, each drawn from its own deck."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        decks = {**{f"plan:{k}": v for k, v in PLANS.items()},
                 **{f"report:{k}": v for k, v in REPORTS.items()},
                 **{f"verdict:{k}": v for k, v in VERDICTS.items()},
                 **{f"decision:{k}": v for k, v in DECISIONS.items()},
                 **{f"strength:{k}": STRENGTHS + v for k, v in TYPE_STRENGTHS.items()},
                 **{f"concern:{k}": CONCERNS + v for k, v in TYPE_CONCERNS.items()},
                 "closing": CLOSINGS}
        self._decks = {name: Deck(rng, items) for name, items in decks.items()}

    def _draw(self, deck: str, **facts) -> str:
        return _capitalised(self._decks[deck].draw().format(**facts))

    def plan(self, voucher_type: str, **facts) -> tuple[str, str]:
        """(the detail the plan goes with, the summary as the company writes it)."""
        item = self._decks[f"plan:{voucher_type}"].draw()
        detail, text = item if isinstance(item, tuple) else ("", item)
        closing = self._draw("closing") if self.rng.random() < 0.35 else ""
        parts = [SMES[facts["company"]][2], _capitalised(text.format(**facts)), closing]
        return detail, " ".join(p for p in parts if p)

    def review(self, voucher_type: str, recommendation: str, **facts) -> str:
        strength, concern = f"strength:{voucher_type}", f"concern:{voucher_type}"
        if recommendation == "award":
            kinds = [strength] + ([concern] if self.rng.random() < 0.6 else [])
        elif recommendation == "waitlist":
            kinds = [strength, concern]
        else:
            kinds = [concern, concern]
        parts: list[str] = []
        for kind in kinds:
            text = self._draw(kind, **facts)
            while text in parts:  # a deck reshuffled between two draws
                text = self._draw(kind, **facts)
            parts.append(text)
        parts.append(self._draw(f"verdict:{recommendation}"))
        return " ".join(parts)

    def report(self, voucher_type: str, **facts) -> str:
        return self._draw(f"report:{voucher_type}", n=self.rng.randrange(9, 24),
                          k=self.rng.randrange(2, 6), weeks=self.rng.randrange(5, 11), **facts)

    def decision(self, trigger: str) -> str:
        return self._draw(f"decision:{trigger}")

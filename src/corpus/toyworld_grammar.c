/* toyworld_grammar.c -- the toyworld language, as tables you can read and edit.
 * Lesson 01 walks through it; include/toyworld.h says how the tables are used.
 *
 * Changing anything here changes the corpus: regenerate data/toyworld with
 * `tinybrain corpus` and bump TOYWORLD_GRAMMAR_VERSION in include/toyworld.h.
 * Weights are relative frequencies (integers, so sampling is exact).
 */
#include "toyworld.h"

#define NOFS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Semantic categories of nouns. */
enum { ANIMAL, PERSON, FOOD, TOOL, TOY, VEHICLE, PLACE, N_CATS };
#define B(c) (1u << (c))
#define ANY (B(ANIMAL) | B(PERSON) | B(FOOD) | B(TOOL) | B(TOY) | B(VEHICLE) | B(PLACE))
#define ANIMATE (B(ANIMAL) | B(PERSON))

static const char *const cat_names[N_CATS] = {
    "animal", "person", "food", "tool", "toy", "vehicle", "place"};

/*                                         animal person food tool toy vehicle place */
static const int subj_w[N_CATS] = /* who acts */ {2, 2, 0, 0, 0, 1, 0};
static const int attr_w[N_CATS] = /* "near the ..." */ {1, 1, 1, 1, 1, 1, 1};
static const int loc_w[N_CATS] = /* "in the ..." */ {0, 0, 0, 0, 0, 0, 1};

/* Nouns: singular, plural, category, weight. */
static const tw_noun nouns[] = {
    {"dog", "dogs", ANIMAL, 3},      {"cat", "cats", ANIMAL, 3},
    {"bird", "birds", ANIMAL, 2},    {"fox", "foxes", ANIMAL, 1},
    {"horse", "horses", ANIMAL, 2},  {"mouse", "mice", ANIMAL, 1},
    {"girl", "girls", PERSON, 3},    {"boy", "boys", PERSON, 3},
    {"man", "men", PERSON, 2},       {"woman", "women", PERSON, 2},
    {"child", "children", PERSON, 1},{"farmer", "farmers", PERSON, 1},
    {"pear", "pears", FOOD, 3}   ,    {"cake", "cakes", FOOD, 2},
    {"bun", "buns", FOOD, 2},        {"carrot", "carrots", FOOD, 1},
    {"cookie", "cookies", FOOD, 1},
    {"hammer", "hammers", TOOL, 2},  {"knife", "knives", TOOL, 2},
    {"spoon", "spoons", TOOL, 1},    {"brush", "brushes", TOOL, 1},
    {"ball", "balls", TOY, 3},       {"kite", "kites", TOY, 2},
    {"doll", "dolls", TOY, 1},       {"drum", "drums", TOY, 1},
    {"car", "cars", VEHICLE, 3},     {"bus", "buses", VEHICLE, 2},
    {"truck", "trucks", VEHICLE, 2}, {"boat", "boats", VEHICLE, 1},
    {"park", "parks", PLACE, 3},     {"house", "houses", PLACE, 3},
    {"garden", "gardens", PLACE, 2}, {"river", "rivers", PLACE, 1},
    {"school", "schools", PLACE, 1},
};

/* Verbs: singular, plural, semantic class, who can do it (subject categories), what to
 * (object categories; 0 = intransitive), weight. */
static const tw_verb verbs[] = {
    {"eats", "eat", "ingestion", ANIMATE, B(FOOD), 3},
    {"chases", "chase", "motion", ANIMATE, ANIMATE | B(TOY), 2},
    {"sees", "see", "perception", ANIMATE, ANY, 3},
    {"likes", "like", "emotion", ANIMATE, ANIMATE | B(FOOD) | B(TOY), 2},
    {"holds", "hold", "manipulation", B(PERSON), B(FOOD) | B(TOOL) | B(TOY), 2},
    {"uses", "use", "manipulation", B(PERSON), B(TOOL), 2},
    {"drives", "drive", "motion", B(PERSON), B(VEHICLE), 2},
    {"throws", "throw", "manipulation", B(PERSON), B(FOOD) | B(TOY), 1},
    {"carries", "carry", "manipulation", ANIMATE | B(VEHICLE), B(FOOD) | B(TOOL) | B(TOY), 2},
    {"passes", "pass", "motion", B(PERSON) | B(VEHICLE), B(VEHICLE) | B(PLACE), 2},
    {"sleeps", "sleep", "rest", ANIMATE, 0, 2},
    {"runs", "run", "motion", ANIMATE, 0, 2},
    {"stops", "stop", "motion", ANIMATE | B(VEHICLE), 0, 2},
    {"waits", "wait", "rest", B(PERSON) | B(VEHICLE), 0, 1},
};

/* Adjectives: word, class, which noun categories they can describe.  (No word starts
 * with a vowel sound, so "a" never needs to be "an".) */
static const tw_adj adjs[] = {
    {"big", "size", ANY},
    {"small", "size", ANY},
    {"dirty", "state", ANY & ~B(FOOD)},
    {"hungry", "state", ANIMATE},
    {"red", "colour", B(TOOL) | B(TOY) | B(VEHICLE)},
    {"blue", "colour", B(TOOL) | B(TOY) | B(VEHICLE)},
    {"green", "colour", B(TOOL) | B(TOY) | B(VEHICLE)},
    {"sweet", "taste", B(FOOD)},
};

/* Determiners: weight before a singular / plural noun. */
static const tw_det dets[] = {{"the", 3, 3}, {"a", 2, 0}, {"some", 0, 2}};

static const char *const attr_preps[] = {"near", "behind", "with"};
static const char *const loc_preps[] = {"in", "near", "behind", "under"};

/* Relative clauses: "the dog that chases the cats", "the dog that the cats chase". */
static const char *const rel_word = "that";

/* The home phrase: "lives in the garden" (animals and people live somewhere; the named
 * characters say so four times as often). */
static const tw_home home = {"lives", "live", "dwelling", ANIMATE, 2, 8, "in", "the", PLACE};

/* The named characters and their facts: where each lives and the food it always picks.
 * No two share both, so a fact can only be recalled from the name. */
static const tw_name names[] = {
    {"mia", PERSON, "garden", "pear", 1},  {"leo", PERSON, "river", "cake", 1},
    {"ana", PERSON, "house", "bun", 1},    {"tom", PERSON, "park", "carrot", 1},
};

/* Pronounceable nonwords: in the vocabulary (so the localizer can play them to the
 * models), never in the training text. */
static const char *const nonwords[] = {
    "blick", "dax", "wug", "fep", "toma", "zorp", "gleeb", "mib", "plonk", "trov",
    "snerk", "vash", "quib", "lorp", "nif", "yoff", "brell", "pim", "tasp", "drelk",
    "gorf", "skiv", "fendle", "cruv"};

const tw_grammar toyworld_grammar = {
    cat_names, N_CATS, subj_w, attr_w, loc_w,
    nouns, NOFS(nouns), verbs, NOFS(verbs), adjs, NOFS(adjs), dets, NOFS(dets),
    attr_preps, NOFS(attr_preps), loc_preps, NOFS(loc_preps), nonwords, NOFS(nonwords),
    ".",
    {1, 4},   /* P(adjective)                             = 1/4 */
    {1, 4},   /* P(PP after the subject)                  = 1/4 */
    {1, 2},   /* P(location after intransitive)           = 1/2 */
    {1, 3},   /* P(a second PP | a first one)             = 1/3 */
    rel_word,
    {1, 5},   /* P(relative clause after a common noun)   = 1/5 */
    {1, 2},   /* P(object relative | relative clause)     = 1/2 */
    &home,
    names, NOFS(names),
    {1, 4},   /* P(the subject is a named character)      = 1/4 */
};

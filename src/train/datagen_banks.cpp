// The task-agent generator's phrase banks (see datagen_banks.h). Keep the two splits disjoint: the test
// `Datagen.SplitsShareNoTemplateOrEntity` checks it.
#include "train/datagen_banks.h"

namespace sy::train::datagen {

const Banks & train_banks() {
    static const Banks b = [] {
        Banks k;
        k.title_verbs = {"buy",     "call",    "email", "fix",   "clean",    "pay",    "book",   "send",  "review",
                         "prepare", "pick up", "water", "renew", "schedule", "order",  "return", "write", "cancel",
                         "wash",    "print",   "sign",  "visit", "text",     "backup", "read"};
        k.title_objects = {"groceries",
                           "the car",
                           "mom",
                           "the dentist",
                           "the electricity bill",
                           "the plants",
                           "the passport",
                           "the flight tickets",
                           "the quarterly report",
                           "the slides",
                           "the kitchen",
                           "the invoice",
                           "a birthday card",
                           "the library books",
                           "the insurance",
                           "the landlord",
                           "new shoes",
                           "the gym membership",
                           "the laptop",
                           "the lawn",
                           "dinner reservations",
                           "the contract",
                           "the team meeting",
                           "the tax return",
                           "dog food",
                           "the garage",
                           "a haircut",
                           "the bank",
                           "the printer",
                           "the windows",
                           "Sarah",
                           "the plumber",
                           "my resume",
                           "the budget",
                           "the hotel",
                           "Alex",
                           "the vet appointment",
                           "the blog post",
                           "the parking permit",
                           "milk",
                           "the recycling",
                           "the oil change",
                           "the rent",
                           "a dentist appointment",
                           "the garden hose",
                           "the emails"};
        k.tags = {"work",   "home",  "personal", "finance", "health",  "family", "errands",        "shopping", "car",
                  "travel", "admin", "kids",     "urgent",  "someday", "study",  "groceries list", "house",    "gifts"};
        k.queries = {"dentist", "invoice",    "groceries", "passport", "report", "birthday", "insurance",
                     "car",     "meeting",    "flight",    "rent",     "gym",    "taxes",    "doctor",
                     "laptop",  "school run", "plumber",   "budget",   "hotel",  "slides",   "rent payment",
                     "oil",     "emails",     "gifts",     "house",    "vet"};
        k.topics = {"black holes",      "the roman empire",      "photosynthesis",   "jazz",
                    "football",         "the french revolution", "volcanic islands", "dinosaurs",
                    "the stock market", "electric cars",         "quantum physics",  "the ocean",
                    "mountains",        "the solar system",      "world war two",    "bees",
                    "cooking"};

        k.create = {"add a task to {title}{mods}",
                    "add {title} to my list{mods}",
                    "create a task: {title}{mods}",
                    "new task: {title}{mods}",
                    "remind me to {title}{mods}",
                    "please add a todo to {title}{mods}",
                    "put {title} on my todo list{mods}",
                    "can you create a task called {title}{mods}",
                    "make a task to {title}{mods}",
                    "I need to {title}{mods}. add it to my tasks",
                    "add task {title}{mods}",
                    "create task to {title}{mods}",
                    "jot down {title}{mods}",
                    "add to my list: {title}{mods}",
                    "remember to {title}{mods}",
                    "task: {title}{mods}",
                    "I want to {title}{mods}",
                    "note that I should {title}{mods}",
                    "make a note to {title}{mods}",
                    "don't let me forget to {title}{mods}",
                    "add a reminder to {title}{mods}",
                    "todo: {title}{mods}",
                    "track a task called {title}{mods}",
                    "log a task: {title}{mods}",
                    "I must {title}{mods}, add that",
                    "create a new task named {title}{mods}",
                    "add the task {title}{mods}",
                    "new item: {title}{mods}"};
        k.mod_priority = {", {p} priority",  " - {p} priority",        ", priority {p}",   " with {p} priority",
                          " {p} priority",   ", make it {p} priority", " at {p} priority", ", {p} prio",
                          " - priority {p}", ", set priority to {p}"};
        k.mod_date = {" due {d}",
                      " by {d}",
                      ", due {d}",
                      " for {d}",
                      " due on {d}",
                      " (due {d})",
                      ", needs to be done by {d}",
                      " before {d}",
                      ", due date {d}",
                      " on {d}"};
        k.mod_tags = {" tagged {t}",       ", tag it {t}", " with tags {t}", " tag {t}",        ", tagged {t}",
                      " with the tag {t}", " under {t}",   ", labels {t}",   " and tag it {t}", ", tag: {t}"};

        k.list_open = {"show",          "list",     "show me",     "display", "what are",
                       "can you list",  "list out", "show all of", "give me", "what's on",
                       "I want to see", "bring up", "view",        "check",   "tell me"};
        k.list_due = {" due before {d}", " that are due before {d}", " due by {d}", " before {d}"};
        k.list_all = {" including completed ones", " including the done ones", " including finished",
                      " with the completed ones too"};

        k.update_priority = {"change the priority of task {id} to {p}",
                             "set task {id} to {p} priority",
                             "make task #{id} {p} priority",
                             "task {id} should be {p} priority",
                             "change task {id} priority to {p}",
                             "raise task {id} to {p} priority",
                             "lower task {id} to {p} priority",
                             "priority of #{id} should be {p}",
                             "put task {id} on {p} priority",
                             "give task {id} {p} priority",
                             "update task {id} priority to {p}",
                             "set #{id} priority {p}"};
        k.update_title = {"rename task {id} to {title}",        "change the title of task #{id} to {title}",
                          "task {id} should be called {title}", "rename #{id} to {title}",
                          "change task {id} to say {title}",    "update the title of #{id} to {title}",
                          "retitle task {id} to {title}",       "task {id} title: {title}",
                          "edit task {id} to read {title}",     "rename number {id} to {title}"};
        k.update_date = {"move task {id} to {d}",
                         "change the due date of task {id} to {d}",
                         "push task #{id} to {d}",
                         "task {id} is now due {d}",
                         "change task {id} due date to {d}",
                         "reschedule task {id} to {d}",
                         "postpone #{id} to {d}",
                         "set the deadline of task {id} to {d}",
                         "task {id} due {d}",
                         "push the deadline of task {id} to {d}",
                         "change #{id} deadline to {d}"};
        k.update_and_priority = {" and set it to {p} priority", " and make it {p} priority", ", also {p} priority",
                                 " and change the priority to {p}"};

        k.complete = {
            "mark task {id} as done", "complete task {id}",       "I finished task #{id}",    "task {id} is done",
            "check off task {id}",    "mark #{id} complete",      "mark task {id} completed", "finish task {id}",
            "close task {id}",        "tick off #{id}",           "task #{id} completed",     "mark {id} done",
            "complete #{id} please",  "I've completed task {id}", "check task {id} off",      "set #{id} as finished"};
        k.remove = {"delete task {id}",     "remove task #{id}",
                    "get rid of task {id}", "trash task {id}",
                    "please delete #{id}",  "remove task {id} from my list",
                    "erase task {id}",      "drop task #{id}",
                    "cancel task {id}",     "delete #{id} please",
                    "scrap task {id}",      "take task {id} off my list",
                    "remove item #{id}",    "delete the task with id {id}"};
        k.search = {"find tasks about {q}",
                    "search for {q}",
                    "look up tasks mentioning {q}",
                    "any tasks about {q}?",
                    "find {q}",
                    "search tasks: {q}",
                    "search {q}",
                    "tasks with {q}",
                    "find anything with {q}",
                    "look up {q}",
                    "which tasks mention {q}?",
                    "search for tasks about {q}",
                    "show tasks matching {q}",
                    "find my {q} tasks",
                    "search tasks for {q}",
                    "anything on {q}?"};

        k.small_talk = {"hi",
                        "hello",
                        "hello there",
                        "thanks",
                        "thank you!",
                        "thanks a lot",
                        "how are you?",
                        "good morning",
                        "who are you?",
                        "what can you do?",
                        "ok",
                        "great, thanks",
                        "bye",
                        "see you later",
                        "you're awesome",
                        "help",
                        "hey",
                        "yo",
                        "good afternoon",
                        "thank you",
                        "nice",
                        "cool",
                        "awesome",
                        "ok thanks",
                        "morning!",
                        "what's up?",
                        "how's it going?",
                        "sounds good",
                        "got it",
                        "are you there?",
                        "who made you?",
                        "what are you?",
                        "nice job",
                        "that's all",
                        "no thanks",
                        "hmm",
                        "lol",
                        "great"};
        k.out_of_scope = {"what's the weather in Paris?",
                          "tell me a joke",
                          "play some music",
                          "translate hello into Spanish",
                          "what is 12 times 7?",
                          "who won the world cup in 2018?",
                          "write me a poem about the sea",
                          "what time is it in Tokyo?",
                          "recommend a good book",
                          "how do I boil an egg?",
                          "what's the news today?",
                          "set an alarm for 7am",
                          "convert 10 miles to km",
                          "what's the population of Canada?",
                          "tell me a story",
                          "what's the meaning of life?",
                          "how do I make pasta?",
                          "who is the president of France?",
                          "what's 15% of 80?",
                          "define serendipity",
                          "how old is the universe?",
                          "what is the speed of light?",
                          "give me a riddle",
                          "flip a coin",
                          "what movies are playing?",
                          "how do magnets work?",
                          "what's the best phone to buy?",
                          "how many days until christmas?",
                          "is it going to rain?"};
        k.topic_frames = {"tell me about {topic}",
                          "what do you know about {topic}?",
                          "explain {topic}",
                          "give me facts about {topic}",
                          "what is {topic}?",
                          "talk about {topic}",
                          "tell me something about {topic}",
                          "I want to learn about {topic}"};

        k.follow_priority = {"actually make it {p} priority", "set it to {p} priority please", "make it {p} priority",
                             "change that to {p} priority", "it should be {p} priority"};
        k.follow_done = {
            "mark it as done", "I already did it, complete it", "done", "I finished it", "mark that complete",
            "that's done now"};
        k.follow_delete = {"delete it",          "remove that task", "delete that",
                           "actually remove it", "scrap it",         "get rid of it"};
        k.follow_date = {"change the due date to {d}", "move it to {d}", "make it due {d}", "push it to {d}",
                         "due date {d} please"};
        k.follow_title = {"rename it to {title}", "change the title to {title}", "call it {title}",
                          "retitle it to {title}"};

        // More phrasings (structure and wording people use; none is a test-split template).
        auto more = [](Strs & v, std::initializer_list<const char *> xs) {
            for (const char * x : xs) v.emplace_back(x);
        };
        more(k.create, {"could you put {title} on the list{mods}",
                        "I should {title}{mods}, can you track that",
                        "pls add {title}{mods}",
                        "need to {title}{mods} - add it",
                        "add: {title}{mods}",
                        "create a to-do item: {title}{mods}",
                        "reminder: {title}{mods}",
                        "set a reminder to {title}{mods}",
                        "write down {title}{mods}",
                        "can you note {title}{mods}",
                        "throw {title} on my list{mods}",
                        "stick {title} on the list{mods}",
                        "gotta {title}{mods}, add it",
                        "help me remember to {title}{mods}",
                        "could you make a new todo for {title}{mods}",
                        "start a task called {title}{mods}",
                        "open a new task: {title}{mods}",
                        "{title}{mods} - add to tasks",
                        "add an item: {title}{mods}",
                        "I'd like a task to {title}{mods}",
                        "make me a todo: {title}{mods}",
                        "please remind me to {title}{mods}",
                        "can you add {title}{mods}",
                        "would you add {title} to the list{mods}",
                        "new reminder: {title}{mods}",
                        "add a to-do: {title}{mods}",
                        "create an item called {title}{mods}",
                        "one more for the list: {title}{mods}",
                        "I need a reminder to {title}{mods}",
                        "could you log {title}{mods}",
                        "save a task to {title}{mods}",
                        "create {title}{mods}",
                        "new entry: {title}{mods}",
                        "i gotta {title}{mods}. put it on the list",
                        "add to do {title}{mods}",
                        "track {title}{mods}"});
        more(k.mod_priority, {", it's {p} priority", ", priority: {p}", " as {p} priority", ", {p} importance",
                              " ({p} prio)", ", prio {p}", ", and it's {p} priority"});
        more(k.mod_date, {" due by {d}", ", by {d}", " deadline {d}", " (by {d})", ", due: {d}", " until {d}",
                          ", to be done {d}", " for {d} please"});
        more(k.mod_tags, {" #{t}", ", label it {t}", " in {t}", ", category {t}", " (tag {t})", " labelled {t}"});
        more(k.list_open, {"what do I have in", "read out", "can I see", "get", "fetch", "go through", "open",
                           "print", "list all", "show me all", "what are all", "gimme", "I need to see", "display all",
                           "could you show", "can you show me", "please list", "would you list"});
        more(k.list_due, {" due on or before {d}", " with a deadline before {d}", " before the {d} deadline",
                          " that are due by {d}"});
        more(k.list_all, {" including the completed ones", " plus the finished ones", " both open and done",
                          " no matter the status"});
        more(k.update_priority, {"mark task {id} as {p} priority", "item {id} is {p} priority now",
                                 "#{id} needs to be {p} priority", "{p} priority for task {id}",
                                 "prioritize task {id} as {p}", "set the priority on number {id} to {p}",
                                 "make item {id} {p} prio", "change #{id} to {p} priority",
                                 "bump the priority of item {id} to {p}", "task no. {id} should have {p} priority",
                                 "update the priority of number {id} to {p}", "can you set task {id} to {p} priority",
                                 "the priority for task {id} is {p} now", "please give #{id} a {p} priority",
                                 "switch the priority of task {id} to {p}", "make todo {id} {p} priority"});
        more(k.update_title, {"rename item {id} to {title}", "change the name of task {id} to {title}",
                              "call task {id} {title} instead", "#{id} should say {title}",
                              "update the name of number {id}: {title}", "relabel #{id} as {title}",
                              "task {id}: rename to {title}", "can you rename task no. {id} to {title}",
                              "change the text of item {id} to {title}", "new title for task {id}: {title}",
                              "rename todo {id} to {title}", "please retitle #{id} as {title}"});
        more(k.update_date, {"move item {id} to {d}", "the deadline for #{id} is now {d}", "set task {id} due {d}",
                             "delay task {id} until {d}", "extend #{id} to {d}", "shift number {id} to {d}",
                             "bring task {id} forward to {d}", "due date for item {id}: {d}",
                             "can you push #{id} back to {d}", "reschedule item {id} for {d}",
                             "task no. {id} should be due {d}", "change the deadline on number {id} to {d}",
                             "please move todo {id} to {d}", "#{id} is due {d} now"});
        more(k.update_and_priority, {" and bump it to {p} priority", ", and {p} priority", " with {p} priority",
                                     " and set {p} priority"});
        more(k.complete, {"I'm done with task {id}", "mark {id} as finished", "tick {id}", "{id} is complete",
                          "completed #{id}", "mark number {id} done", "task no. {id} done", "close out item {id}",
                          "finished item {id}", "set item {id} to complete", "wrap up task {id}",
                          "mark item #{id} finished", "all done with {id}", "consider task {id} done",
                          "cross off #{id}", "cross task {id} off my list", "todo {id} is done",
                          "can you complete number {id}", "please close #{id}", "item {id} done",
                          "mark the task with id {id} as complete", "#{id} is finished"});
        more(k.remove, {"kill task {id}", "nuke #{id}", "delete item {id}", "remove number {id}",
                        "I no longer need task {id}", "task {id} is not needed anymore, remove it",
                        "please remove item {id}", "can you remove #{id}", "discard task {id}", "toss task {id}",
                        "forget about task {id}, delete it", "wipe task {id}", "delete no. {id}",
                        "get rid of item {id}", "clear task {id} from the list", "dump #{id}",
                        "delete todo {id}", "could you delete number {id}", "remove the task with id {id}",
                        "#{id} can go, delete it"});
        more(k.search, {"search for anything about {q}", "find my tasks on {q}", "is there anything about {q}?",
                        "do I have a task for {q}?", "any todos mentioning {q}?", "look through my tasks for {q}",
                        "search my tasks for {q}", "find todos with {q}", "what tasks do I have about {q}?",
                        "lookup {q}", "can you find {q}", "any tasks on {q}?", "show me tasks about {q}",
                        "find items about {q}", "query {q}", "search: {q}", "which todos are about {q}?",
                        "find everything about {q}", "do I have any {q} tasks?", "tasks about {q}?",
                        "find {q} in my todo list", "search {q} in my tasks", "is {q} on my list?",
                        "anything about {q} in my tasks?", "check my list for {q}", "scan my todos for {q}",
                        "hunt for {q} in the list", "grep my tasks for {q}"});
        more(k.small_talk, {"good night", "thx", "thank you very much", "hiya", "howdy partner", "what's your name?",
                            "can you help me?", "how does this work?", "sup", "greetings", "ok cool", "alright",
                            "never mind", "that's it for now", "love it", "you rock", "well done",
                            "what tasks can you handle?", "are you a bot?", "what do you do?", "help me out",
                            "brb", "good job", "much appreciated"});
        more(k.out_of_scope, {"search the web for cheap flights", "book a table for two tonight", "order a pizza",
                              "turn up the volume", "set a timer for 10 minutes", "what's the score of the game?",
                              "how much is bitcoin worth?", "send a text to John", "navigate to the nearest gas station",
                              "what's the weather like tomorrow?", "play the next song", "call an uber",
                              "how do you spell necessary?", "what is the square root of 144?",
                              "who wrote hamlet?", "dim the bedroom lights", "find me a hotel in Rome",
                              "what's the traffic like?", "add 5 and 7", "delete my facebook account",
                              "search youtube for cat videos", "what's a good name for a dog?",
                              "list the planets of the solar system", "remind me what the capital of Peru is",
                              "show me pictures of puppies", "what's the date today?",
                              "how many ounces in a pound?",
                              "find a recipe for lasagna", "tell me the latest headlines", "what's 2 plus 2?",
                              "shuffle my playlist", "how far is the moon?"});
        more(k.topic_frames, {"what can you tell me about {topic}?", "teach me {topic}", "describe {topic}",
                              "I'd love to hear about {topic}", "any fun facts on {topic}?", "explain {topic} to me",
                              "how does {topic} work?"});
        more(k.follow_priority, {"bump it to {p} priority", "{p} priority please", "make that one {p} priority",
                                 "set its priority to {p}"});
        more(k.follow_done, {"already done", "mark it done", "I did that already", "it's finished, tick it off",
                             "complete that one"});
        more(k.follow_delete, {"remove it", "delete that one please", "forget it, delete it", "I don't need it, remove it",
                               "trash it"});
        more(k.follow_date, {"move that to {d}", "set the deadline to {d}", "push that to {d}",
                             "change it to {d}"});
        more(k.follow_title, {"rename that to {title}", "change it to say {title}", "name it {title}",
                              "let's call it {title}"});

        more(k.ext_verbs,
             {"check",     "update",   "finish",    "submit",    "file",      "mail",      "collect",   "deliver",
              "drop off",  "move",     "sort",      "plan",      "arrange",   "confirm",   "research",  "compare",
              "measure",   "paint",    "mow",       "trim",      "rake",      "sweep",     "mop",       "dust",
              "scrub",     "rinse",    "fold",      "pack",      "load",      "empty",     "fill",      "charge",
              "test",      "repair",   "patch",     "sew",       "knit",      "cook",      "grill",     "fry",
              "chop",      "boil",     "stir",      "taste",     "shop for",  "rent",      "borrow",    "lend",
              "share",     "upload",   "download",  "scan",      "copy",      "archive",   "label",     "count",
              "weigh",     "pour",     "plant",     "prune",     "harvest",   "spray",     "lock",      "unlock",
              "open",      "close",    "check on",  "follow up with", "reply to", "message", "ping",    "invite",
              "thank",     "congratulate", "ask",   "tell",      "meet",      "hire",      "interview", "coach",
              "teach",     "learn",    "practice",  "study",     "memorize",  "translate", "draft",     "edit",
              "proofread", "publish",  "post",      "record",    "film",      "photograph", "draw",     "sketch",
              "design",    "build",    "code",      "debug",     "deploy",    "migrate",   "refactor",  "audit",
              "inspect",   "service",  "tune",      "calibrate", "adjust",    "insure",    "extend",    "reschedule",
              "postpone",  "reserve",  "enroll in", "apply for", "sign up for", "vote on", "recharge",  "top up",
              "transfer",  "withdraw", "deposit",   "invest in", "claim",     "exchange",  "swap",      "sell",
              "ship",      "track",    "wrap",      "decorate",  "celebrate", "drive",     "stretch",
              "brush",     "shave",    "grab",      "fetch",     "bring",     "take",      "get",       "find",
              "look into", "sort out", "deal with", "figure out", "set up",   "clear out", "throw out", "go to",
              "drop by",   "finalize", "approve",   "renegotiate", "estimate", "quote",    "present",   "rehearse"});
        more(k.ext_nouns,
             {"car keys",     "wallet",       "umbrella",     "sofa",         "couch",        "carpet",
              "rug",          "lamp",         "mirror",       "oven",         "stove",        "fridge",
              "dishwasher",   "microwave",    "toaster",      "kettle",       "blender",      "sink",
              "faucet",       "shower",       "bathtub",      "towels",       "sheets",       "pillows",
              "blanket",      "duvet",        "mattress",     "closet",       "wardrobe",     "drawer",
              "cabinet",      "desk",         "chair",        "table",        "lawnmower",    "hedge",
              "roof",         "gutter",       "chimney",      "porch",        "patio",        "deck",
              "driveway",     "mailbox",      "doorbell",     "thermostat",   "boiler",       "heater",
              "light bulbs",  "ladder",       "toolbox",      "drill",        "hammer",       "wallpaper",
              "tiles",        "blinds",       "basement",     "cellar",       "shed",         "greenhouse",
              "pond",         "pool",         "barbecue",     "bills",        "receipts",     "expenses",
              "payroll",      "timesheet",    "pitch deck",   "proposal",     "roadmap",      "spreadsheet",
              "database",     "website",      "server",       "newsletter",   "podcast",      "presentation",
              "agenda",       "minutes",      "homework",     "essay",        "thesis",       "exam",
              "lecture notes", "flashcards",  "visa",         "driving licence", "license plate", "warranty",
              "coupon",       "voucher",      "gift card",    "subscription", "phone plan",   "internet bill",
              "gas bill",     "mortgage",     "pension",      "savings account", "credit card", "loan",
              "refund",       "tax forms",    "pay stub",     "eggs",         "bread",        "butter",
              "cheese",       "coffee beans", "tea",          "rice",         "pasta",        "olive oil",
              "tomatoes",     "onions",       "garlic",       "apples",       "bananas",      "oranges",
              "yogurt",       "cereal",       "flour",        "sugar",        "honey",        "chicken",
              "salmon",       "tofu",         "spinach",      "carrots",      "potatoes",     "snacks",
              "juice",        "wine",         "diapers",      "shampoo",      "toothpaste",   "soap",
              "detergent",    "paper towels", "trash bags",   "vitamins",     "sunscreen",    "yoga class",
              "piano lesson", "swim practice", "soccer game", "book club",    "wedding gift", "baby shower",
              "anniversary dinner", "housewarming party", "job interview", "performance review", "flu shot",
              "eye exam",     "blood test",   "car wash",     "road trip",    "camping gear", "tent",
              "sleeping bag", "hiking boots", "suitcase",     "boarding pass", "train tickets", "museum tickets",
              "concert tickets", "headphones", "charger",     "keyboard",     "monitor",      "webcam",
              "backpack",     "lunchbox",     "jacket",       "sweater",      "jeans",        "sneakers",
              "glasses",      "contact lenses", "prescription", "medicine",   "bandages",     "first aid kit",
              "passport renewal", "lease",    "deposit",      "quote",        "estimate",     "budget review",
              "sprint plan",  "release notes", "bug report",  "pull request", "backup drive", "password",
              "calendar",     "thank you notes", "invitations", "seating plan", "playlist"});
        more(k.ext_adjectives, {"blue",   "red",     "green",    "big",      "small",   "broken",  "leaky",
                                "dusty",  "dirty",   "overdue",  "monthly",  "weekly",  "annual",  "quarterly",
                                "final",  "first",   "second",   "extra",    "cheap",   "wooden",  "metal",
                                "electric", "front", "back",     "upstairs", "downstairs", "outdoor", "shared",
                                "urgent", "missing", "tricky",   "signed",   "unpaid",  "draft"});
        more(k.ext_people, {"grandma",    "uncle Joe",     "aunt May",   "the twins",    "the babysitter",
                            "the electrician", "the mechanic", "the accountant", "the lawyer", "the tutor",
                            "the pharmacist", "the optician", "my boss", "the recruiter", "the principal",
                            "Dr. Patel",  "Maria",         "Tom",        "Chen",         "Olga",
                            "Ahmed",      "Lucy",          "Jamal",      "Keiko",        "Marco",
                            "Fatima",     "Ben",           "Nora",       "Diego",        "Hannah",
                            "Yusuf",      "Ingrid",        "Ravi",       "Zoe",          "dad",
                            "the kids",   "the team",  "the client",   "HR"});
        return k;
    }();
    return b;
}

const Banks & test_banks() {
    static const Banks b = [] {
        Banks k;
        k.title_verbs = {"repaint",  "sharpen", "defrost", "polish", "recycle",  "vacuum",      "iron",
                         "assemble", "donate",  "refill",  "tidy",   "organize", "feed",        "replace",
                         "hang",     "install", "bake",    "unpack", "walk",     "register for"};
        k.title_objects = {"the fence",
                           "the kitchen knives",
                           "the freezer",
                           "grandpa's watch",
                           "the old newspapers",
                           "the stairs",
                           "my work shirts",
                           "the bookshelf",
                           "the winter coats",
                           "the water filter",
                           "the attic",
                           "the cat",
                           "the smoke detector batteries",
                           "the curtains",
                           "the new router",
                           "a lemon cake",
                           "the moving boxes",
                           "the neighbour's dog",
                           "the marathon",
                           "the spare room",
                           "the bike tyres",
                           "the photo album",
                           "the guest bed",
                           "the fish tank",
                           "Priya"};
        k.tags = {"garden",       "school", "hobby",  "pets",    "renovation",
                  "volunteering", "music",  "sports", "kitchen", "fitness"};
        k.queries = {"fence",  "freezer", "curtains", "marathon", "bike",   "watch",
                     "router", "cake",    "attic",    "battery",  "photos", "neighbour"};
        k.topics = {"volcanoes",      "ancient egypt",    "machine learning",
                    "chess openings", "the moon landing", "coral reefs"};

        k.create = {"could you add a new task called {title} for me{mods}",
                    "hey, create a todo: {title}{mods}",
                    "set up a new task to {title}{mods}",
                    "I have to {title}{mods}, please make a task for it",
                    "new todo - {title}{mods}",
                    "quick one: add {title}{mods}",
                    "add this to my tasks: {title}{mods}",
                    "please create a task so I {title}{mods}"};
        k.mod_priority = {" and make it {p} priority", ", mark it {p} priority", " ({p} priority)",
                          ", this one is {p} priority"};
        k.mod_date = {" with a deadline of {d}", ", deadline {d}", " - due {d}", ", it is due {d}"};
        k.mod_tags = {" and add the tag {t}", ", tags: {t}", " (tags {t})"};

        k.list_open = {"pull up", "let me see", "I'd like to see", "could you bring up", "please show"};
        k.list_due = {" that need to be done before {d}", " with a due date before {d}"};
        k.list_all = {" even the finished ones", " done or not, all of them"};

        k.update_priority = {"could you bump task number {id} to {p} priority", "please switch #{id} to {p} priority",
                             "I want task {id} at {p} priority"};
        k.update_title = {"please rename item {id} to {title}", "rename task number {id} as {title}",
                          "the title of task number {id} should be {title}"};
        k.update_date = {"can you move task number {id} to {d}", "please make #{id} due {d}",
                         "the due date of item {id} should be {d}"};
        k.update_and_priority = {", and also make it {p} priority"};

        k.complete = {"task number {id} is finished now", "please mark item {id} as completed", "done with #{id}!",
                      "set task {id} to done", "you can mark {id} as complete"};
        k.remove = {"can you delete task number {id}", "I don't need item {id} anymore, delete it",
                    "remove #{id}, it's obsolete", "please get rid of number {id}"};
        k.search = {"search my list for {q}", "do I have anything about {q}?", "look for {q} in my tasks",
                    "find anything related to {q}", "is there a task about {q}?"};

        k.small_talk = {
            "hey!",  "cheers",    "good evening",  "nice, thank you so much", "what are you able to help with?",
            "howdy", "goodnight", "appreciate it", "are you a robot?",        "perfect"};
        k.out_of_scope = {"what's the capital of Japan?",       "can you recommend a movie for tonight?",
                          "how tall is Mount Everest?",         "turn off the living room lights",
                          "what's a good recipe for pancakes?", "sing me a song",
                          "how many legs does a spider have?",  "what's the exchange rate for euros?",
                          "who painted the Mona Lisa?"};
        k.topic_frames = {"can you teach me about {topic}?", "I'm curious about {topic}"};

        k.follow_priority = {"oh, and set it to {p} priority", "hmm, better make that {p} priority"};
        k.follow_done = {"great, it's already done actually, mark it complete"};
        k.follow_delete = {"never mind, remove it"};
        k.follow_date = {"can it be due {d} instead?"};
        k.follow_title = {"please call it {title} instead"};
        return k;
    }();
    return b;
}

}  // namespace sy::train::datagen

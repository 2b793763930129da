//! Word lists for realistic generated data (common US names, streets and places).

/// Female given names.
pub const FEMALE: &[&str] = &[
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah",
    "Karen", "Lisa", "Nancy", "Betty", "Sandra", "Margaret", "Ashley", "Kimberly", "Emily",
    "Donna", "Michelle", "Carol", "Amanda", "Melissa", "Deborah", "Stephanie", "Rebecca", "Laura",
    "Sharon", "Cynthia", "Kathleen", "Amy", "Angela", "Shirley", "Anna", "Brenda", "Pamela",
    "Emma", "Nicole", "Helen", "Samantha", "Katherine", "Christine", "Debra", "Rachel", "Olivia",
    "Grace", "Chloe", "Sofia", "Isabella", "Ava", "Mia", "Abigail", "Harper", "Ruth", "Esther",
    "Naomi", "Lydia", "Hannah", "Priscilla", "Maria", "Ana", "Lucia", "Mei", "Aaliyah", "Zoe",
];

/// Male given names.
pub const MALE: &[&str] = &[
    "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas",
    "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Paul",
    "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald", "Edward",
    "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric", "Jonathan", "Stephen",
    "Larry", "Justin", "Scott", "Brandon", "Benjamin", "Samuel", "Gregory", "Alexander", "Patrick",
    "Frank", "Raymond", "Jack", "Dennis", "Jerry", "Tyler", "Aaron", "Jose", "Adam", "Nathan",
    "Henry", "Peter", "Noah", "Elijah", "Caleb", "Isaac", "Luke", "Silas", "Carlos", "Wei", "Malik",
];

/// Family names.
pub const LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker",
    "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook",
    "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly",
    "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood",
    "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
    "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "O'Brien", "Revere", "Chen", "Okafor",
];

/// Street names.
pub const STREETS: &[&str] = &[
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Blvd",
    "Lake Rd", "Hill St", "Park Ave", "Church St", "Meadow Ln", "Sunset Blvd", "River Rd",
    "Highland Ave", "Willow Way", "Ride Way", "Old North Ln", "Forest Dr", "Spring St",
];

/// (city, state, zip prefix) triples.
pub const CITIES: &[(&str, &str, &str)] = &[
    ("Boston", "MA", "021"), ("Austin", "TX", "787"), ("Denver", "CO", "802"),
    ("Nashville", "TN", "372"), ("Portland", "OR", "972"), ("Columbus", "OH", "432"),
    ("Charlotte", "NC", "282"), ("Phoenix", "AZ", "850"), ("Atlanta", "GA", "303"),
    ("Minneapolis", "MN", "554"), ("Carlsbad", "CA", "920"), ("Orlando", "FL", "328"),
];

/// Campus name suffixes.
pub const CAMPUSES: &[&str] = &[
    "Downtown", "North", "South", "East", "West", "Lakeside", "Riverside", "Hillcrest", "Online",
    "University",
];

/// Group name themes.
pub const GROUP_THEMES: &[&str] = &[
    "Young Adults", "Men's Bible Study", "Women's Bible Study", "Couples", "College", "Youth",
    "Prayer", "Worship Team", "Serve Team", "Recovery", "Parents", "Seniors", "Book Club",
    "Hiking", "Running", "Newcomers",
];

/// Calendar event names.
pub const EVENTS: &[&str] = &[
    "Sunday Service", "Midweek Prayer", "Youth Night", "Staff Meeting", "Baptism Class",
    "Community Dinner", "Food Drive", "Choir Rehearsal", "Men's Breakfast", "Women's Retreat",
    "VBS", "Easter Egg Hunt", "Christmas Eve Service", "Membership Class",
];

/// Filler words for free text.
pub const WORDS: &[&str] = &[
    "gather", "serve", "grow", "weekly", "community", "together", "faith", "hope", "friends",
    "family", "welcome", "everyone", "join", "share", "learn", "pray", "meal", "study", "team",
];

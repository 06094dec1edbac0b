//! The simulated Microsoft tenant: a seeded population of people, devices, methods and logs
//! that the simulator serves in the shapes of the real Microsoft services.

pub mod population;

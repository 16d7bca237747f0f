//! Hostile fixture: a well-formed component for some other world.

wit_bindgen::generate!({
    inline: "
        package other:thing@1.0.0;
        world greeter {
            export greet: func(name: string) -> string;
        }
    ",
});

struct Greeter;

impl Guest for Greeter {
    fn greet(name: String) -> String {
        format!("hello, {name}")
    }
}

export!(Greeter);

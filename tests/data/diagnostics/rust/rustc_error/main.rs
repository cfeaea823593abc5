fn greet(name: String) -> String {
    format!("hello {}", name)
}

fn main() {
    let n = 3;
    println!("{}", greet(n));
}

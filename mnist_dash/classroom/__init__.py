"""The class: who is its teacher (`teacher`), the rules and lock the teacher sets (`rules`), the
challenge (`challenge`) and the board that ranks the class's runs (`board`). No Streamlit."""
